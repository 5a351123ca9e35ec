//! `manifest.json`: what a backup holds, written last so that a backup
//! without one is known to be unfinished.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::files;
use crate::error::AppError;

/// The manifest's file name in a backup.
pub const FILE: &str = "manifest.json";
/// The manifest format this binary writes and reads.
pub const FORMAT: u32 = 1;
/// The database's name in a backup (and in the data dir).
pub const DB_FILE: &str = "jobboard.db";
/// The board's key (CSRF tokens, alert links) in a backup and the data dir.
pub const KEY_FILE: &str = "secret.key";

/// What a backup holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// The manifest format ([`FORMAT`]).
    pub format: u32,
    /// The version of the jobboard that made the backup.
    pub jobboard_version: String,
    /// The database's `PRAGMA user_version`.
    pub schema_version: i64,
    /// When the database snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    pub counts: Counts,
    /// Every file of the backup but the manifest, with its size and SHA-256.
    pub files: Vec<Entry>,
}

/// Rows in the database snapshot, and the uploaded files beside it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Jobs not deleted, by status.
    pub jobs: BTreeMap<String, i64>,
    /// Jobs deleted by their owner (kept for payment records).
    pub jobs_deleted: i64,
    pub users: i64,
    pub companies: i64,
    pub payments: i64,
    pub alerts: i64,
    /// Uploaded files (logos) and their bytes.
    pub upload_files: u64,
    pub upload_bytes: u64,
}

/// One file of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the backup folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Counts {
    /// Counts the rows of a database.
    pub fn of(conn: &Connection) -> Result<Counts, AppError> {
        let one =
            |sql: &str| -> Result<i64, AppError> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
        let mut jobs = BTreeMap::new();
        let mut stmt = conn.prepare(
            "SELECT status, count(*) FROM jobs WHERE deleted_at IS NULL GROUP BY status",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (status, n) = row?;
            jobs.insert(status, n);
        }
        Ok(Counts {
            jobs,
            jobs_deleted: one("SELECT count(*) FROM jobs WHERE deleted_at IS NOT NULL")?,
            users: one("SELECT count(*) FROM users")?,
            companies: one("SELECT count(*) FROM companies")?,
            payments: one("SELECT count(*) FROM payments")?,
            alerts: one("SELECT count(*) FROM alerts")?,
            upload_files: 0,
            upload_bytes: 0,
        })
    }

    /// Jobs of every status, deleted ones left out.
    pub fn jobs_total(&self) -> i64 {
        self.jobs.values().sum()
    }

    /// One line: `1200 jobs (1150 published, 50 expired), 12 users, …`.
    pub fn describe(&self) -> String {
        let statuses: Vec<String> = self.jobs.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let statuses = if statuses.is_empty() {
            String::new()
        } else {
            format!(" ({})", statuses.join(", "))
        };
        format!(
            "{} jobs{statuses}, {} users, {} companies, {} payments, {} alerts, {} uploaded files ({})",
            self.jobs_total(),
            self.users,
            self.companies,
            self.payments,
            self.alerts,
            self.upload_files,
            files::human_bytes(self.upload_bytes)
        )
    }
}

impl Manifest {
    /// The entry for a path, if the backup has that file.
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.files.iter().find(|e| e.path == path)
    }

    /// Bytes of every file in the backup.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|e| e.bytes).sum()
    }

    /// Writes the manifest into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<(), AppError> {
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        files::write_atomically(dir, FILE, &json)
    }

    /// Reads and checks the manifest of the backup in `dir`.
    pub fn read(dir: &Path) -> Result<Manifest, AppError> {
        let path = dir.join(FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let why = if dir.is_dir() {
                    "it has no manifest.json (a backup that did not finish has none)"
                } else {
                    "there is no such folder"
                };
                return Err(AppError::BadRequest(format!(
                    "{} is not a jobboard backup: {why}",
                    dir.display()
                )));
            }
            Err(e) => return Err(files::io_error("read", &path, e)),
        };
        // The format first, so a newer manifest is named as such rather than
        // as unreadable.
        let format = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("format").and_then(|f| f.as_u64()));
        if format.is_some_and(|f| f > u64::from(FORMAT)) {
            return Err(AppError::BadRequest(format!(
                "{} was written by a newer jobboard (manifest format {}; this one reads {FORMAT}): \
                 restore it with that version",
                path.display(),
                format.unwrap_or_default()
            )));
        }
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| AppError::BadRequest(format!("{} cannot be read: {e}", path.display())))?;
        if manifest.entry(DB_FILE).is_none() {
            return Err(AppError::BadRequest(format!(
                "{} names no {DB_FILE}: not a jobboard backup",
                path.display()
            )));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            format: FORMAT,
            jobboard_version: "0.1.0".into(),
            schema_version: 6,
            created_at: "2026-11-27T09:00:00Z".into(),
            counts: Counts {
                jobs: BTreeMap::from([("published".into(), 3), ("draft".into(), 1)]),
                users: 2,
                ..Counts::default()
            },
            files: vec![Entry {
                path: DB_FILE.into(),
                bytes: 4096,
                sha256: "00".into(),
            }],
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let dir = tempfile::tempdir().expect("dir");
        sample().write(dir.path()).expect("write");
        assert_eq!(Manifest::read(dir.path()).expect("read"), sample());
        assert!(!dir.path().join(".manifest.json.tmp").exists());
        assert!(
            sample()
                .counts
                .describe()
                .starts_with("4 jobs (1 draft, 3 published), 2 users")
        );
    }

    #[test]
    fn missing_newer_and_broken_manifests_are_named() {
        let dir = tempfile::tempdir().expect("dir");
        let err = Manifest::read(dir.path()).expect_err("none").to_string();
        assert!(err.contains("no manifest.json"), "{err}");
        let err = Manifest::read(&dir.path().join("nope"))
            .expect_err("no dir")
            .to_string();
        assert!(err.contains("no such folder"), "{err}");
        std::fs::write(dir.path().join(FILE), br#"{"format": 2}"#).expect("write");
        let err = Manifest::read(dir.path()).expect_err("newer").to_string();
        assert!(err.contains("newer jobboard"), "{err}");
        std::fs::write(dir.path().join(FILE), b"{not json").expect("write");
        let err = Manifest::read(dir.path()).expect_err("broken").to_string();
        assert!(err.contains("cannot be read"), "{err}");
        let mut m = sample();
        m.files.clear();
        m.write(dir.path()).expect("write");
        let err = Manifest::read(dir.path()).expect_err("no db").to_string();
        assert!(err.contains("names no jobboard.db"), "{err}");
    }
}
