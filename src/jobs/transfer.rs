//! `import` and `export`: jobs as JSON Lines in the API's job shape.

use std::io::{BufRead, Write};

use super::input::JobInput;
use super::json::JobJson;
use super::model::Status;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    /// `(line number, reason)` of each refused line.
    pub skipped: Vec<(usize, String)>,
}

/// Lines stored per transaction.
const BATCH: usize = 500;

/// Parses one line into a job input; the error is the reason to report.
pub fn parse_line(line: &str) -> Result<JobInput, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    serde_json::from_value(value).map_err(|e| format!("not a job: {e}"))
}

/// Imports JSON Lines from `reader`: each line is all or nothing; refused lines
/// are reported (through `on_skip`, as they happen) and skipped.
pub fn import(
    db: &Db,
    config: &Config,
    clock: &SharedClock,
    reader: impl BufRead,
    mut progress: impl FnMut(usize),
    mut on_skip: impl FnMut(usize, &str),
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut bytes = 0usize;
    for (i, line) in reader.split(b'\n').enumerate() {
        let number = i + 1;
        let line =
            line.map_err(|e| AppError::BadRequest(format!("cannot read line {number}: {e}")))?;
        bytes += line.len() + 1;
        let text = match String::from_utf8(line) {
            Ok(t) => t,
            Err(_) => {
                on_skip(number, "not valid UTF-8");
                report.skipped.push((number, "not valid UTF-8".into()));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let job = parse_line(&text).and_then(|input| {
            input
                .validate(&config.site.categories)
                .map_err(|e| e.to_string())
        });
        match job {
            Ok(job) => batch.push((number, job)),
            Err(reason) => {
                on_skip(number, &reason);
                report.skipped.push((number, reason));
            }
        }
        if batch.len() >= BATCH {
            report.imported += store_batch(
                db,
                config,
                clock,
                std::mem::take(&mut batch),
                &mut report.skipped,
                &mut on_skip,
            )?;
            progress(bytes);
        }
    }
    report.imported += store_batch(db, config, clock, batch, &mut report.skipped, &mut on_skip)?;
    progress(bytes);
    Ok(report)
}

/// Stores a batch in one transaction, each line in its own savepoint so a line
/// the database refuses leaves nothing behind.
fn store_batch(
    db: &Db,
    config: &Config,
    clock: &SharedClock,
    batch: Vec<(usize, super::input::NewJob)>,
    skipped: &mut Vec<(usize, String)>,
    on_skip: &mut impl FnMut(usize, &str),
) -> Result<usize, AppError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let days = config.posting.duration_days;
    let now = clock.unix();
    let refused = db.write_blocking(move |tx| {
        let mut refused = Vec::new();
        for (number, job) in &batch {
            tx.execute_batch("SAVEPOINT line")?;
            let placement = super::imported_placement(job, days, now);
            match super::create(tx, job, placement, now) {
                Ok(_) => tx.execute_batch("RELEASE line")?,
                Err(e) => {
                    tx.execute_batch("ROLLBACK TO line; RELEASE line")?;
                    refused.push((*number, format!("not stored: {e}")));
                }
            }
        }
        Ok((batch.len(), refused))
    })?;
    let (total, refused) = refused;
    for (n, reason) in &refused {
        on_skip(*n, reason);
    }
    let stored = total - refused.len();
    skipped.extend(refused);
    Ok(stored)
}

/// Writes every job (or those in `status`) as JSON Lines; returns how many.
pub fn export(
    db: &Db,
    base_url: &str,
    status: Option<Status>,
    mut out: impl Write,
) -> Result<usize, AppError> {
    let base = base_url.to_string();
    db.read_blocking(|conn| {
        let mut n = 0;
        super::store::for_each(conn, status, |job| {
            let line = serde_json::to_string(&JobJson::new(&job, &base))?;
            writeln!(out, "{line}")
                .map_err(|e| AppError::internal(format!("cannot write: {e}")))?;
            n += 1;
            Ok(())
        })?;
        out.flush()
            .map_err(|e| AppError::internal(format!("cannot write: {e}")))?;
        Ok(n)
    })
}
