//! Sending alerts: the `alerts` schedule runs [`send_due`] every minute. Each
//! alert whose round has come gets the public jobs that match its search,
//! were published after it started and were never sent to it (newest first,
//! at most [`MAX_JOBS`]), in one email queued in the same transaction that
//! records them as sent.

use minijinja::context;
use serde::Serialize;

use super::search;
use super::store::{self, Alert};
use super::token::{self, Purpose};
use crate::error::AppError;
use crate::jobs::model::Job;
use crate::mail::Email;
use crate::search::Want;
use crate::search::query::{MAX_PER_PAGE, Sort};
use crate::web::State;

/// Jobs in one email at most.
pub const MAX_JOBS: usize = 50;
/// Result pages read at most per alert and round.
const MAX_PAGES: i64 = 5;
/// How long a newly published job may take to reach the search index: an
/// alert looks again while the newest public job is younger than its last
/// round by less than this.
const INDEX_LAG: i64 = 120;

/// A job as an alert email lists it.
#[derive(Debug, Serialize)]
struct JobLine {
    title: String,
    company: String,
    url: String,
}

/// Sends every alert whose round has come; returns how many emails were
/// queued. One alert's failure is logged and the others go on.
pub fn send_due(state: &State, now: i64) -> Result<usize, AppError> {
    let (due, newest) = state
        .db
        .read_blocking(move |c| Ok((store::due(c, now)?, store::newest_public(c)?)))?;
    let mut sent = 0;
    for alert in due {
        // Nothing published since this alert last looked (or began): no
        // search needed. Most rounds of most instant alerts end here.
        let seen = alert.last_round_at.unwrap_or(alert.since);
        if newest.is_none_or(|n| n <= seen - INDEX_LAG) {
            continue;
        }
        match send_one(state, &alert, now) {
            Ok(Some(true)) => sent += 1,
            Ok(Some(false)) => {}
            // The index is being rebuilt: the next round catches up.
            Ok(None) => break,
            Err(e) => tracing::warn!(alert = alert.id, error = %e, "could not send a job alert"),
        }
    }
    if sent > 0 {
        state.wake.notify();
        tracing::info!(sent, "job alerts queued");
    }
    Ok(sent)
}

/// The jobs new to an alert, newest first; `None` while the index is built.
fn new_jobs(state: &State, alert: &Alert, now: i64) -> Result<Option<Vec<Job>>, AppError> {
    let mut p = search::params(&alert.query, &state.config.site.categories);
    p.sort = Some(Sort::Newest);
    p.per_page = MAX_PER_PAGE;
    let mut found_new = Vec::new();
    for page in 1..=MAX_PAGES {
        p.page = page;
        let Some(found) = state.search.find(&state.db, &p, now, Want::default())? else {
            return Ok(None);
        };
        let count = found.jobs.len() as i64;
        // Featured jobs come first; after them the order is by publication,
        // so the first older job that is not featured ends the new ones.
        let mut older = false;
        for job in found.jobs {
            match job.published_at {
                // The search read these rows from the database just now: one
                // hidden, taken down or closed since the index heard is not sent.
                Some(at) if at > alert.since => {
                    if job.is_live(now) {
                        found_new.push(job);
                    }
                }
                _ => older |= !job.featured,
            }
        }
        if older || count < p.per_page {
            break;
        }
    }
    let id = alert.id;
    let mut fresh = state.db.read_blocking(move |c| {
        let mut out = Vec::new();
        for job in found_new {
            if !store::delivered(c, id, job.id)? {
                out.push(job);
            }
        }
        Ok(out)
    })?;
    fresh.sort_by_key(|j| std::cmp::Reverse((j.published_at, j.id)));
    fresh.truncate(MAX_JOBS);
    Ok(Some(fresh))
}

/// One alert's round: `Some(true)` when an email was queued.
fn send_one(state: &State, alert: &Alert, now: i64) -> Result<Option<bool>, AppError> {
    let Some(jobs) = new_jobs(state, alert, now)? else {
        return Ok(None);
    };
    let (id, previous) = (alert.id, alert.last_round_at);
    if jobs.is_empty() {
        // The round is noted even when there was nothing to send: a digest's
        // period starts again, and an instant alert does not search again
        // until something newer is published.
        state
            .db
            .write_blocking_quiet(move |tx| store::close_round(tx, id, previous, &[], now))?;
        return Ok(Some(false));
    }
    let categories = &state.config.site.categories;
    let summary = search::describe(&search::params(&alert.query, categories), categories);
    let unsubscribe = state.url(&format!(
        "/alerts/unsubscribe/{}",
        token::make(&state.keys, Purpose::Unsubscribe, id)
    ));
    let manage = state.url(&format!(
        "/alerts/manage/{}",
        token::make(&state.keys, Purpose::Manage, id)
    ));
    let search_url = if alert.query.is_empty() {
        state.url("/jobs")
    } else {
        state.url(&format!("/jobs?{}", alert.query))
    };
    let lines: Vec<JobLine> = jobs
        .iter()
        .map(|j| JobLine {
            title: j.title.clone(),
            company: j.company.name.clone(),
            url: state.url(&j.path()),
        })
        .collect();
    let count = lines.len();
    let subject = if count == 1 {
        format!("New job: {} at {}", lines[0].title, lines[0].company)
    } else {
        format!("{count} new jobs for your alert")
    };
    let payload = state.mailer.payload_with_headers(
        &state.templates,
        &Email {
            to: &alert.email,
            subject: &subject,
            template: "alert_digest",
            context: context! {
                jobs => lines,
                count,
                summary,
                frequency => alert.frequency.as_str(),
                search_url,
                unsubscribe_url => &unsubscribe,
                manage_url => manage,
            },
        },
        now,
        &[
            ("List-Unsubscribe", format!("<{unsubscribe}>")),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()),
        ],
    )?;
    let job_ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let queued = state.db.write_blocking_quiet(move |tx| {
        if !store::close_round(tx, id, previous, &job_ids, now)? {
            return Ok(false);
        }
        crate::mail::queue_payload(tx, &payload, now)?;
        Ok(true)
    })?;
    Ok(Some(queued))
}
