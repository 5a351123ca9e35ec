//! `jobboard restore DIR`: puts a backup back into the data dir.
//!
//! Everything is prepared in `data_dir/.restoring/` first: the files are
//! copied and checked against the manifest's checksums, the database passes
//! SQLite's integrity and foreign-key checks and is migrated when older, and
//! the search index is built from it. Only then does anything in the data dir
//! change, so a refused backup leaves it exactly as it was. A data dir that
//! holds a board is replaced only with `--force`, and what it held is moved
//! to `data_dir/replaced-<time>/`, not deleted.
//!
//! The server must be stopped: a running `serve` holds the search index's
//! writer lock and every jobboard process holds the database open, and
//! restore checks both before it starts and again before it swaps.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::files::{self, io_error};
use super::listing;
use super::manifest::{DB_FILE, KEY_FILE, Manifest};
use crate::config::Config;
use crate::db::{Db, migrations};
use crate::error::AppError;

/// Where a restore is prepared, inside the data dir (the only place the
/// service may write, and on the same file system, so moving in is a rename).
pub const STAGING: &str = ".restoring";
/// Prefix of the folder that keeps what `--force` replaced.
pub const REPLACED: &str = "replaced-";

/// A finished restore.
#[derive(Debug)]
pub struct Restored {
    pub data_dir: PathBuf,
    pub manifest: Manifest,
    /// What the data dir held before (with `--force`), and where it went.
    pub replaced: Vec<String>,
    pub replaced_to: Option<PathBuf>,
    /// The schema version the database was migrated to, when it was older.
    pub migrated_to: Option<i64>,
    /// Jobs in the rebuilt search index.
    pub indexed: u64,
    /// How long copying and checking the files, and building the index, took.
    pub checked_in: Duration,
    pub indexed_in: Duration,
}

impl Restored {
    /// What to tell the operator, one line each.
    pub fn describe(&self) -> String {
        let m = &self.manifest;
        let mut out = format!(
            "restored the backup of {} (jobboard {}, schema version {}) into {}: {}",
            m.created_at,
            m.jobboard_version,
            m.schema_version,
            self.data_dir.display(),
            m.counts.describe()
        );
        if let Some(v) = self.migrated_to {
            out.push_str(&format!("\nmigrated the database to schema version {v}"));
        }
        out.push_str(&format!(
            "\nchecksums, integrity and foreign keys ok ({:.1}s); search index rebuilt \
             ({} jobs, {:.1}s)",
            self.checked_in.as_secs_f64(),
            self.indexed,
            self.indexed_in.as_secs_f64()
        ));
        if m.entry(KEY_FILE).is_none() {
            out.push_str(
                "\nwarning: the backup has no secret.key; the board makes a new one, so \
                 links in alert emails sent before no longer work",
            );
        }
        if let Some(to) = &self.replaced_to {
            out.push_str(&format!(
                "\nreplaced {}; the previous contents are in {} (delete it once the board runs well)",
                listing(&self.replaced),
                to.display()
            ));
        }
        out.push_str("\nstart the server: jobboard serve");
        out
    }
}

/// Restores the backup in `from` into the data dir of `config`, which must be
/// empty or absent unless `force`. `now` names the folder of replaced files;
/// `progress` hears (done, total) while the search index is built.
pub fn restore(
    config: &Config,
    from: &Path,
    force: bool,
    now: i64,
    progress: impl FnMut(u64, u64),
) -> Result<Restored, AppError> {
    let manifest = Manifest::read(from)?;
    if manifest.schema_version > migrations::latest() {
        return Err(AppError::BadRequest(format!(
            "the backup in {} is at schema version {} (made by jobboard {}), newer than this \
             jobboard knows ({}): restore it with jobboard {} or newer",
            from.display(),
            manifest.schema_version,
            manifest.jobboard_version,
            migrations::latest(),
            manifest.jobboard_version
        )));
    }
    let data_dir = &config.data_dir;
    let present: Vec<String> = files::entries(data_dir)?
        .into_iter()
        .filter(|n| n != STAGING)
        .collect();
    if !present.is_empty() && !force {
        return Err(AppError::BadRequest(format!(
            "the data dir {} is not empty ({}): restore into an empty one, or stop the server \
             and pass --force to replace it (its contents are kept in {REPLACED}…)",
            data_dir.display(),
            listing(&present)
        )));
    }
    refuse_if_in_use(data_dir)?;

    let created = !data_dir.exists();
    std::fs::create_dir_all(data_dir).map_err(|e| io_error("create", data_dir, e))?;
    let staging = data_dir.join(STAGING);
    // On a refusal, the data dir is left as it was found.
    let undo = || {
        let _ = std::fs::remove_dir_all(&staging);
        if created {
            let _ = std::fs::remove_dir(data_dir);
        }
    };
    if staging.exists() {
        // Left by a restore that was interrupted: ours to remove.
        std::fs::remove_dir_all(&staging).map_err(|e| io_error("remove", &staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| io_error("create", &staging, e))?;
    let staged = stage(from, &manifest, &staging, progress);
    let Staged {
        migrated_to,
        indexed,
        checked_in,
        indexed_in,
    } = match staged {
        Ok(done) => done,
        Err(e) => {
            undo();
            return Err(e);
        }
    };

    // The point of no return: a server started meanwhile would lose its data.
    if let Err(e) = refuse_if_in_use(data_dir) {
        undo();
        return Err(e);
    }
    // Listed again: the check above folds and removes a leftover WAL.
    let replaced: Vec<String> = files::entries(data_dir)?
        .into_iter()
        .filter(|n| n != STAGING && !n.starts_with(REPLACED))
        .collect();
    let replaced_to = if replaced.is_empty() {
        None
    } else {
        let to = replaced_dir(data_dir, now);
        std::fs::create_dir(&to).map_err(|e| io_error("create", &to, e))?;
        for name in &replaced {
            let path = data_dir.join(name);
            std::fs::rename(&path, to.join(name)).map_err(|e| io_error("move", &path, e))?;
        }
        Some(to)
    };
    for name in files::entries(&staging)? {
        let path = staging.join(&name);
        std::fs::rename(&path, data_dir.join(&name)).map_err(|e| io_error("move", &path, e))?;
    }
    std::fs::remove_dir(&staging).map_err(|e| io_error("remove", &staging, e))?;
    files::sync_dir(data_dir)?;
    Ok(Restored {
        data_dir: data_dir.clone(),
        manifest,
        replaced,
        replaced_to,
        migrated_to,
        indexed,
        checked_in,
        indexed_in,
    })
}

/// What [`stage`] did.
struct Staged {
    migrated_to: Option<i64>,
    indexed: u64,
    checked_in: Duration,
    indexed_in: Duration,
}

/// Copies and checks the backup into `staging`, migrates its database and
/// builds its search index.
fn stage(
    from: &Path,
    manifest: &Manifest,
    staging: &Path,
    progress: impl FnMut(u64, u64),
) -> Result<Staged, AppError> {
    let started = Instant::now();
    // The database first: the files are worth nothing if it is refused.
    let mut entries: Vec<_> = manifest.files.iter().collect();
    entries.sort_by_key(|e| e.path != DB_FILE);
    for entry in entries {
        // Only what a backup holds: no WAL, index or anything else slipped in.
        let known = entry.path == DB_FILE
            || entry.path == KEY_FILE
            || entry
                .path
                .strip_prefix(crate::web::uploads::DIR)
                .is_some_and(|rest| rest.starts_with('/'));
        let (true, Some(source), Some(target)) = (
            known,
            files::inside(from, &entry.path),
            files::inside(staging, &entry.path),
        ) else {
            return Err(AppError::BadRequest(format!(
                "{} names a file a backup does not hold ({:?}): refused",
                from.join(super::manifest::FILE).display(),
                entry.path
            )));
        };
        if !source.is_file() {
            return Err(damaged(
                from,
                &format!("{} is missing; nothing was changed", entry.path),
            ));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
        }
        let (bytes, sha256) = files::copy_hashed(&source, &target, entry.path == KEY_FILE)?;
        if bytes != entry.bytes || sha256 != entry.sha256 {
            return Err(damaged(
                from,
                &format!(
                    "{} does not match its checksum in manifest.json; nothing was changed",
                    entry.path
                ),
            ));
        }
        if entry.path == DB_FILE {
            check_database(from, &target, manifest)?;
        }
    }

    let checked_in = started.elapsed();
    let started = Instant::now();
    let db_path = staging.join(DB_FILE);
    let db = Db::open(&db_path)?;
    let migrated_to =
        (manifest.schema_version < migrations::latest()).then_some(migrations::latest());
    let built = crate::search::rebuild::build(&staging.join("index"), &db, progress);
    db.close();
    let (built, indexed_in) = (built?, started.elapsed());
    files::sync_tree(staging)?;
    Ok(Staged {
        migrated_to,
        indexed: built,
        checked_in,
        indexed_in,
    })
}

/// The error for a backup that is not what its manifest says.
fn damaged(from: &Path, detail: &str) -> AppError {
    AppError::BadRequest(format!(
        "the backup in {} is damaged: {detail}",
        from.display()
    ))
}

/// Refuses a database that fails SQLite's integrity or foreign-key checks,
/// or is not at the manifest's schema version.
fn check_database(from: &Path, path: &Path, manifest: &Manifest) -> Result<(), AppError> {
    let refuse = |detail: String| {
        damaged(
            from,
            &format!(
                "its database fails SQLite's integrity check ({detail}); nothing was changed. \
                 Try an older backup"
            ),
        )
    };
    let sqlite = |e: rusqlite::Error| refuse(e.to_string());
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check(10)")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(sqlite)?;
    if problems != ["ok"] {
        return Err(refuse(problems.join("; ")));
    }
    let orphans: Vec<(String, i64, String)> = conn
        .prepare("PRAGMA foreign_key_check")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1).unwrap_or(0), r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(sqlite)?;
    if let Some((table, row, parent)) = orphans.first() {
        return Err(damaged(
            from,
            &format!(
                "its database fails the foreign-key check: {} row(s) point to rows that do not \
                 exist (first: {table} row {row} → {parent}); nothing was changed",
                orphans.len()
            ),
        ));
    }
    let version = migrations::current(&conn).map_err(sqlite)?;
    if version != manifest.schema_version {
        return Err(damaged(
            from,
            &format!(
                "its database is at schema version {version} but manifest.json says {}; \
                 nothing was changed",
                manifest.schema_version
            ),
        ));
    }
    Ok(())
}

/// Refuses when a process uses the data dir: `serve` holds the search
/// index's writer lock, and any process with the database open (any jobboard
/// command, Litestream) stops an exclusive lock on it.
fn refuse_if_in_use(data_dir: &Path) -> Result<(), AppError> {
    let index = data_dir.join("index");
    let db = data_dir.join(DB_FILE);
    if crate::search::rebuild::served(&index) || (db.is_file() && database_in_use(&db)) {
        return Err(AppError::BadRequest(format!(
            "{} is in use (by jobboard serve, a worker, another command, or Litestream): \
             stop it first (systemctl stop jobboard), then restore",
            data_dir.display()
        )));
    }
    Ok(())
}

/// Whether another connection has the database open: in WAL mode an
/// exclusive lock is refused while any other connection is open, even idle.
/// When it is free, the WAL is folded in (the file is whole wherever it goes).
fn database_in_use(path: &Path) -> bool {
    let Ok(conn) = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return false;
    };
    let _ = conn.busy_timeout(std::time::Duration::from_millis(200));
    let locked = conn
        .pragma_update_and_check(None, "locking_mode", "EXCLUSIVE", |r| r.get::<_, String>(0))
        .and_then(|_| conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())));
    match locked {
        Err(rusqlite::Error::SqliteFailure(e, _)) => {
            matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        }
        // Damaged or not a database: nobody serves it; it is replaced anyway.
        Err(_) => false,
        Ok(()) => {
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            false
        }
    }
}

/// A new folder name for what `--force` replaces: `replaced-20261127T090000Z`.
fn replaced_dir(data_dir: &Path, now: i64) -> PathBuf {
    let stamp: String = crate::clock::rfc3339(now)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut path = data_dir.join(format!("{REPLACED}{stamp}"));
    let mut n = 2;
    while path.exists() {
        path = data_dir.join(format!("{REPLACED}{stamp}-{n}"));
        n += 1;
    }
    path
}
