//! Job postings: the heart of the board.

pub mod api;
pub mod api_doc;
pub mod api_input;
pub mod counters;
pub mod form;
pub mod input;
pub mod json;
pub mod lifecycle;
pub mod listing;
pub mod model;
pub mod owned;
pub mod pages;
pub mod store;
pub mod transfer;
pub mod view;

use rusqlite::Connection;

use crate::error::AppError;
use input::NewJob;
use model::Status;
use store::Placement;

/// Where an imported job lands: its own status and times when it names them,
/// else published now for `duration_days`.
pub fn imported_placement(job: &NewJob, duration_days: u32, now: i64) -> Placement {
    let status = job.status.unwrap_or(Status::Published);
    let shown = matches!(status, Status::Published | Status::Expired | Status::Filled);
    let published_at = job.published_at.or(shown.then_some(now));
    let expires_at = job
        .expires_at
        .or(published_at.map(|p| p + i64::from(duration_days) * 86_400));
    Placement {
        status,
        published_at,
        expires_at,
    }
}

/// Stores a validated job with its company; returns the job's id.
pub fn create(
    conn: &Connection,
    job: &NewJob,
    placement: Placement,
    now: i64,
) -> Result<i64, AppError> {
    let company_id = crate::companies::store::find_or_create(conn, &job.company, now)?;
    store::insert(conn, job, company_id, placement, now)
}
