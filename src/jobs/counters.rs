//! Views and apply clicks, counted in memory and written in batches, so counting
//! never slows a page. `serve` flushes every two seconds and at shutdown.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::db::Db;
use crate::error::AppError;

/// Pending counts per job id: (views, apply clicks).
#[derive(Default)]
pub struct Counters {
    pending: Mutex<HashMap<i64, (i64, i64)>>,
}

impl Counters {
    pub fn view(&self, job_id: i64) {
        if let Ok(mut p) = self.pending.lock() {
            p.entry(job_id).or_default().0 += 1;
        }
    }

    pub fn apply_click(&self, job_id: i64) {
        if let Ok(mut p) = self.pending.lock() {
            p.entry(job_id).or_default().1 += 1;
        }
    }

    fn take(&self) -> Vec<(i64, i64, i64)> {
        match self.pending.lock() {
            Ok(mut p) => p.drain().map(|(id, (v, c))| (id, v, c)).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn put_back(&self, counts: Vec<(i64, i64, i64)>) {
        if let Ok(mut p) = self.pending.lock() {
            for (id, v, c) in counts {
                let e = p.entry(id).or_default();
                e.0 += v;
                e.1 += c;
            }
        }
    }

    /// Writes what is pending in one transaction; on failure keeps it for next time.
    pub async fn flush(&self, db: &Db) -> Result<usize, AppError> {
        let counts = self.take();
        if counts.is_empty() {
            return Ok(0);
        }
        let n = counts.len();
        let batch = counts.clone();
        // Counters are private numbers: their write must not invalidate public pages.
        match db
            .write_quiet(move |tx| super::store::add_counts(tx, &batch))
            .await
        {
            Ok(()) => Ok(n),
            Err(e) => {
                self.put_back(counts);
                Err(e)
            }
        }
    }
}
