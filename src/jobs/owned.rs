//! Jobs as their owners see them: created from `/post` or the API, listed in
//! the dashboard, changed only by the employer who posted them. Someone else's
//! job is simply not found.

use rusqlite::{Connection, params};

use super::input::{CompanyInput, NewJob};
use super::model::{Job, Status};
use super::store::{self, Placement};
use crate::accounts::{User, store as accounts};
use crate::companies::store as companies;
use crate::config::Config;
use crate::error::AppError;

/// Back to (or still) a draft: no dates.
pub fn draft_placement() -> Placement {
    Placement {
        status: Status::Draft,
        published_at: None,
        expires_at: None,
    }
}

/// Where a newly submitted job goes: to review when the board requires
/// approval, else live now for `posting.duration_days`.
pub fn submitted_placement(config: &Config, now: i64) -> Placement {
    if config.posting.require_approval {
        Placement {
            status: Status::PendingReview,
            published_at: None,
            expires_at: None,
        }
    } else {
        published_now(config, now)
    }
}

/// Live from now for the board's post duration.
pub fn published_now(config: &Config, now: i64) -> Placement {
    Placement {
        status: Status::Published,
        published_at: Some(now),
        expires_at: Some(now + i64::from(config.posting.duration_days) * 86_400),
    }
}

/// The employer's company: their own (renamed when the input renames it), or
/// a new one with a slug of its own, linked to them.
pub fn company_for(
    conn: &Connection,
    user: &User,
    input: &CompanyInput,
    now: i64,
) -> Result<i64, AppError> {
    let current = accounts::by_id(conn, user.id)?.company_id;
    match current {
        Some(id) => {
            let company = companies::by_id(conn, id)?;
            let website = input.website.as_deref().or(company.website.as_deref());
            if company.name != input.name || company.website.as_deref() != website {
                companies::update_profile(
                    conn,
                    id,
                    &input.name,
                    website,
                    company.description.as_deref(),
                    now,
                )?;
            }
            Ok(id)
        }
        None => {
            // A logo comes only from an upload to the profile: a URL in the
            // input could point at another company's file.
            let input = CompanyInput {
                logo_url: None,
                ..input.clone()
            };
            let id = companies::create_unique(conn, &input, now)?;
            accounts::set_company(conn, user.id, id, now)?;
            Ok(id)
        }
    }
}

/// Stores a job for its owner; returns its id. Hidden from the public while
/// the owner is disabled or unverified when that is required.
pub fn create(
    conn: &Connection,
    config: &Config,
    user: &User,
    job: &NewJob,
    placement: Placement,
    now: i64,
) -> Result<i64, AppError> {
    let company_id = company_for(conn, user, &job.company, now)?;
    let mut job = job.clone();
    // Featured placement is sold or given by admins, never self-assigned.
    job.featured = false;
    let id = store::insert(conn, &job, company_id, placement, now)?;
    let hidden = accounts::hides_jobs(user, config.posting.require_verified_email);
    conn.prepare_cached("UPDATE jobs SET owner_id = ?2, hidden = ?3 WHERE id = ?1")?
        .execute(params![id, user.id, hidden])?;
    Ok(id)
}

/// One of the owner's jobs (any status, not deleted).
pub fn get(conn: &Connection, user_id: i64, id: i64) -> Result<Job, AppError> {
    let job = store::get(conn, id)?;
    if job.owner_id == Some(user_id) {
        Ok(job)
    } else {
        Err(AppError::NotFound)
    }
}

/// The owner's jobs, newest first.
pub fn list(conn: &Connection, user_id: i64) -> Result<Vec<Job>, AppError> {
    store::by_owner(conn, user_id)
}

/// Replaces the content of one of the owner's jobs; the change reaches
/// search through the queue. A live job stays live, unless the board requires
/// approval: then an edit goes back to review, as does an edited rejected job
/// (an admin turned it down, so an admin looks again). Returns whether it went
/// to review (callers tell the admins).
pub fn update(
    conn: &Connection,
    config: &Config,
    user: &User,
    id: i64,
    job: &NewJob,
    now: i64,
) -> Result<bool, AppError> {
    let before = get(conn, user.id, id)?;
    let company_id = company_for(conn, user, &job.company, now)?;
    store::update(conn, id, job, company_id, now)?;
    // A rejected job goes back to review when edited, unless it was never
    // paid for on a board where posting costs money: then it is a draft
    // again, and its owner pays when submitting it.
    if before.status == Status::Rejected
        && crate::payments::posting_paid(config)
        && !crate::payments::store::has_paid_post(conn, id)?
    {
        store::set_placement(conn, id, draft_placement(), now)?;
        return Ok(false);
    }
    let to_review = before.status == Status::Rejected
        || (before.status == Status::Published && config.posting.require_approval);
    if to_review {
        let placement = Placement {
            status: Status::PendingReview,
            published_at: None,
            expires_at: None,
        };
        store::set_placement(conn, id, placement, now)?;
    }
    Ok(to_review)
}

/// Soft-deletes one of the owner's jobs.
pub fn delete(conn: &Connection, user_id: i64, id: i64, now: i64) -> Result<(), AppError> {
    get(conn, user_id, id)?;
    store::delete(conn, id, now)
}

/// After a job is submitted or resubmitted, in the same transaction: when it
/// waits for review each admin is told, and when it went live (and shows) its
/// owner is. A mail that cannot be built is logged and skipped: the change
/// itself stands.
pub fn queue_notices(
    st: &crate::web::State,
    tx: &Connection,
    job_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let job = store::get(tx, job_id)?;
    match job.status {
        Status::PendingReview => {
            let link = st.url("/admin");
            let subject = format!("Waiting for review: {}", job.title);
            for admin in accounts::admin_emails(tx)? {
                let email = crate::mail::Email {
                    to: &admin,
                    subject: &subject,
                    template: "job_review",
                    context: minijinja::context! {
                        title => &job.title,
                        company => &job.company.name,
                        link => &link,
                    },
                };
                if let Err(e) = st.mailer.queue(tx, &st.templates, &email, now) {
                    tracing::warn!(error = %e, job = job.id, "could not tell an admin of a job");
                }
            }
        }
        Status::Published if !job.hidden => {
            if let Some(owner) = job.owner_id {
                let owner = accounts::by_id(tx, owner)?.email;
                if let Err(e) = queue_published(st, tx, &job, &owner, now) {
                    tracing::warn!(error = %e, job = job.id, "could not tell an owner their job is live");
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Queues the mail telling an owner their job is live, with its link and end
/// date.
pub fn queue_published(
    st: &crate::web::State,
    tx: &Connection,
    job: &Job,
    owner: &str,
    now: i64,
) -> Result<(), AppError> {
    let expires = job
        .expires_at
        .map(crate::clock::human_date)
        .unwrap_or_default();
    let subject = format!("Your job is live: {}", job.title);
    let email = crate::mail::Email {
        to: owner,
        subject: &subject,
        template: "job_published",
        context: minijinja::context! {
            title => &job.title,
            company => &job.company.name,
            link => st.url(&job.path()),
            expires,
        },
    };
    st.mailer.queue(tx, &st.templates, &email, now).map(|_| ())
}

/// Submits one of the owner's drafts: live now, or to review (see
/// [`submitted_placement`]). A job that is not a draft is left as it is.
pub fn submit(
    conn: &Connection,
    config: &Config,
    user_id: i64,
    id: i64,
    now: i64,
) -> Result<(), AppError> {
    let job = get(conn, user_id, id)?;
    // A job left waiting for payment on a board that has since made posting
    // free is submitted like a draft (callers decide whether payment is due).
    if !matches!(job.status, Status::Draft | Status::PendingPayment) {
        return Ok(());
    }
    store::set_placement(conn, id, submitted_placement(config, now), now)
}

// The dashboard's job actions: fill, renew, duplicate, and a rejected job
// going back to review. Each checks that the job is the user's own.

/// How close to its expiry a live job may be renewed: seven days.
pub const RENEW_WINDOW: i64 = 7 * 86_400;

/// Whether a job may be marked filled: published (live or just past its
/// expiry) or expired.
pub fn can_fill(job: &Job) -> bool {
    matches!(job.status, Status::Published | Status::Expired)
}

/// Whether a job may be renewed now: expired, or published and expiring
/// within [`RENEW_WINDOW`].
pub fn can_renew(job: &Job, now: i64) -> bool {
    match job.status {
        Status::Expired => true,
        Status::Published => job.expires_at.is_some_and(|e| e <= now + RENEW_WINDOW),
        _ => false,
    }
}

/// Marks one of the owner's jobs filled: its page stays, "no longer open",
/// and it leaves search.
pub fn fill(conn: &Connection, user_id: i64, id: i64, now: i64) -> Result<(), AppError> {
    let job = get(conn, user_id, id)?;
    if !can_fill(&job) {
        return Err(AppError::BadRequest(
            "Only a published or expired job can be marked filled.".into(),
        ));
    }
    let placement = Placement {
        status: Status::Filled,
        published_at: job.published_at,
        expires_at: job.expires_at,
    };
    store::set_placement(conn, id, placement, now)
}

/// Where a renewal puts a job: live for `posting.duration_days` more, counted
/// from its expiry while it is still live (keeping its date), else from now
/// (listed as new again).
pub fn renewed_placement(job: &Job, config: &Config, now: i64) -> Placement {
    let days = i64::from(config.posting.duration_days) * 86_400;
    match job.expires_at {
        Some(expires) if job.status == Status::Published && expires > now => Placement {
            status: Status::Published,
            published_at: job.published_at,
            expires_at: Some(expires + days),
        },
        _ => published_now(config, now),
    }
}

/// Renews one of the owner's jobs (see [`can_renew`] and
/// [`renewed_placement`]). The one place a renewal happens: with paid
/// posting, the payment step calls this once the renewal is paid for.
pub fn renew(
    conn: &Connection,
    config: &Config,
    user_id: i64,
    id: i64,
    now: i64,
) -> Result<(), AppError> {
    let job = get(conn, user_id, id)?;
    if !can_renew(&job, now) {
        return Err(AppError::BadRequest(
            "Only an expired job, or a live one expiring within 7 days, can be renewed.".into(),
        ));
    }
    store::set_placement(conn, id, renewed_placement(&job, config, now), now)
}

/// Copies one of the owner's jobs as a new draft of theirs (not featured, no
/// dates, no counts); returns the copy's id.
pub fn duplicate(conn: &Connection, user_id: i64, id: i64, now: i64) -> Result<i64, AppError> {
    get(conn, user_id, id)?;
    conn.prepare_cached(
        "INSERT INTO jobs (slug, title, company_id, description, description_html, category, \
         job_type, tags, remote, timezones, location, salary_min, salary_max, salary_currency, \
         salary_period, apply_url, apply_email, featured, status, created_at, updated_at, \
         owner_id, hidden) \
         SELECT slug, title, company_id, description, description_html, category, job_type, \
         tags, remote, timezones, location, salary_min, salary_max, salary_currency, \
         salary_period, apply_url, apply_email, 0, 'draft', ?2, ?2, owner_id, hidden \
         FROM jobs WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    let copy = conn.last_insert_rowid();
    crate::search::queue::enqueue(conn, copy, now)?;
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Role;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        c
    }

    fn config() -> Config {
        Config::for_data_dir(std::path::Path::new("/tmp/unused"))
    }

    fn user(c: &Connection, email: &str) -> User {
        let id = accounts::create_user(c, email, "h", Role::Employer, true, NOW)
            .expect("insert")
            .expect("new");
        accounts::by_id(c, id).expect("user")
    }

    fn new_job(title: &str) -> NewJob {
        let input: super::super::input::JobInput = serde_json::from_value(serde_json::json!({
            "title": title,
            "company": {"name": "Acme"},
            "description": "Build things.",
            "category": "Software Development",
            "job_type": "full_time",
            "apply_url": "https://acme.example/apply"
        }))
        .expect("shape");
        input.validate(&config().site.categories).expect("valid")
    }

    fn job_in(c: &Connection, owner: &User, placement: Placement) -> i64 {
        create(
            c,
            &config(),
            owner,
            &new_job("Rust Engineer"),
            placement,
            NOW,
        )
        .expect("created")
    }

    fn live_until(expires: i64) -> Placement {
        Placement {
            status: Status::Published,
            published_at: Some(NOW - DAY),
            expires_at: Some(expires),
        }
    }

    fn draft() -> Placement {
        Placement {
            status: Status::Draft,
            published_at: None,
            expires_at: None,
        }
    }

    fn status(c: &Connection, id: i64) -> Status {
        store::get(c, id).expect("job").status
    }

    #[test]
    fn filling_keeps_the_dates_and_needs_a_published_job() {
        let c = db();
        let ana = user(&c, "ana@example.com");
        let live = job_in(&c, &ana, live_until(NOW + 20 * DAY));
        fill(&c, ana.id, live, NOW).expect("filled");
        let job = store::get(&c, live).expect("job");
        assert_eq!(job.status, Status::Filled);
        assert_eq!(job.expires_at, Some(NOW + 20 * DAY));
        let draft = job_in(&c, &ana, draft());
        assert!(matches!(
            fill(&c, ana.id, draft, NOW),
            Err(AppError::BadRequest(_))
        ));
        assert_eq!(status(&c, draft), Status::Draft);
    }

    #[test]
    fn renewal_extends_a_live_job_and_relists_an_expired_one() {
        let c = db();
        let cfg = config();
        let days = i64::from(cfg.posting.duration_days) * DAY;
        let ana = user(&c, "ana@example.com");
        // Live, expiring in 3 days: 30 more days from its expiry, same date.
        let soon = job_in(&c, &ana, live_until(NOW + 3 * DAY));
        renew(&c, &cfg, ana.id, soon, NOW).expect("renewed");
        let job = store::get(&c, soon).expect("job");
        assert_eq!(job.expires_at, Some(NOW + 3 * DAY + days));
        assert_eq!(job.published_at, Some(NOW - DAY));
        // Expired: live again from now.
        let old = job_in(&c, &ana, live_until(NOW - DAY));
        store::set_placement(
            &c,
            old,
            Placement {
                status: Status::Expired,
                published_at: Some(NOW - 31 * DAY),
                expires_at: Some(NOW - DAY),
            },
            NOW,
        )
        .expect("expired");
        renew(&c, &cfg, ana.id, old, NOW).expect("renewed");
        let job = store::get(&c, old).expect("job");
        assert_eq!(job.status, Status::Published);
        assert_eq!(
            (job.published_at, job.expires_at),
            (Some(NOW), Some(NOW + days))
        );
        assert!(job.is_live(NOW));
        // Far from expiry, or a draft: refused and unchanged.
        let far = job_in(&c, &ana, live_until(NOW + 20 * DAY));
        assert!(renew(&c, &cfg, ana.id, far, NOW).is_err());
        assert_eq!(
            store::get(&c, far).expect("job").expires_at,
            Some(NOW + 20 * DAY)
        );
        let d = job_in(&c, &ana, draft());
        assert!(renew(&c, &cfg, ana.id, d, NOW).is_err());
    }

    #[test]
    fn a_copy_is_a_new_draft_of_the_same_owner() {
        let c = db();
        let ana = user(&c, "ana@example.com");
        let live = job_in(&c, &ana, live_until(NOW + 20 * DAY));
        c.execute(
            "UPDATE jobs SET views = 7, featured = 1 WHERE id = ?1",
            [live],
        )
        .expect("counts");
        let copy = duplicate(&c, ana.id, live, NOW + 5).expect("copied");
        assert_ne!(copy, live);
        let job = get(&c, ana.id, copy).expect("own copy");
        assert_eq!(job.status, Status::Draft);
        assert_eq!(job.title, "Rust Engineer");
        assert_eq!((job.views, job.featured), (0, false));
        assert_eq!((job.published_at, job.expires_at), (None, None));
        assert_eq!(list(&c, ana.id).expect("list")[0].id, copy);
    }

    #[test]
    fn submitting_a_draft_publishes_it_once() {
        let c = db();
        let cfg = config();
        let ana = user(&c, "ana@example.com");
        let d = job_in(&c, &ana, draft());
        submit(&c, &cfg, ana.id, d, NOW).expect("submitted");
        let job = store::get(&c, d).expect("job");
        assert!(job.is_live(NOW));
        // Submitting again changes nothing.
        submit(&c, &cfg, ana.id, d, NOW + 10).expect("again");
        assert_eq!(store::get(&c, d).expect("job").published_at, Some(NOW));
        // A job left waiting for payment when the board made posting free
        // is submitted like a draft, not stuck.
        let waiting = Placement {
            status: Status::PendingPayment,
            published_at: None,
            expires_at: None,
        };
        let w = job_in(&c, &ana, waiting);
        submit(&c, &cfg, ana.id, w, NOW).expect("submitted");
        assert!(store::get(&c, w).expect("job").is_live(NOW));
    }

    #[test]
    fn edits_go_to_review_when_rejected_or_when_approval_is_required() {
        let c = db();
        let mut cfg = config();
        let ana = user(&c, "ana@example.com");
        let id = job_in(&c, &ana, live_until(NOW + 20 * DAY));
        let edit = new_job("Rust Engineer (edited)");
        assert!(!update(&c, &cfg, &ana, id, &edit, NOW).expect("live"));
        assert_eq!(status(&c, id), Status::Published, "a live job stays live");
        c.execute("UPDATE jobs SET status = 'rejected' WHERE id = ?1", [id])
            .expect("rejected");
        assert!(update(&c, &cfg, &ana, id, &edit, NOW).expect("moved"));
        assert_eq!(status(&c, id), Status::PendingReview);
        // With approval required, an approved job's edit is looked at again.
        cfg.posting.require_approval = true;
        let live = job_in(&c, &ana, live_until(NOW + 20 * DAY));
        assert!(update(&c, &cfg, &ana, live, &edit, NOW).expect("moved"));
        assert_eq!(status(&c, live), Status::PendingReview);
    }

    #[test]
    fn nobody_acts_on_someone_elses_job() {
        let c = db();
        let cfg = config();
        let ana = user(&c, "ana@example.com");
        let bob = user(&c, "bob@example.com");
        let id = job_in(&c, &ana, live_until(NOW + 3 * DAY));
        assert!(matches!(fill(&c, bob.id, id, NOW), Err(AppError::NotFound)));
        assert!(matches!(
            renew(&c, &cfg, bob.id, id, NOW),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            duplicate(&c, bob.id, id, NOW),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            update(&c, &cfg, &bob, id, &new_job("Mine"), NOW),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            delete(&c, bob.id, id, NOW),
            Err(AppError::NotFound)
        ));
        assert_eq!(list(&c, bob.id).expect("list").len(), 0);
        let job = store::get(&c, id).expect("job");
        assert_eq!(
            (job.status, job.expires_at),
            (Status::Published, Some(NOW + 3 * DAY))
        );
    }
}
