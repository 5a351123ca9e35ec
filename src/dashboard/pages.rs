//! `GET /dashboard`: the signed-in employer's jobs, each with the actions
//! that make sense for its status.

use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};

use super::Done;
use crate::accounts::session::CurrentUser;
use crate::config::Config;
use crate::jobs::model::{Job, Status};
use crate::jobs::owned;
use crate::jobs::view;
use crate::payments;
use crate::posting::price_text;
use crate::web::State;

/// One action of a job's row: a link to a page (`edit`, `delete`, which asks
/// first) or a button posting straight away.
fn action(job: &Job, name: &str, label: &str, post: bool) -> Value {
    context! {
        url => format!("/dashboard/jobs/{}/{name}", job.id),
        label,
        post,
    }
}

/// The actions that make sense for a job now (with their prices when
/// posting is paid).
pub fn actions(job: &Job, config: &Config, now: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let p = &config.posting;
    let paid = payments::posting_paid(config);
    if matches!(job.status, Status::Draft | Status::PendingPayment) {
        out.push(action(job, "edit", "Edit", false));
        if paid {
            out.push(context! {
                url => format!("/post/{}/preview", job.id),
                label => "Pay and publish",
                post => false,
            });
        } else {
            out.push(action(job, "submit", "Submit", true));
        }
    } else if job.status != Status::Filled {
        out.push(action(job, "edit", "Edit", false));
    }
    if owned::can_fill(job) {
        out.push(action(job, "fill", "Mark filled", true));
    }
    if owned::can_renew(job, now) {
        let label = if paid {
            format!("Renew ({})", price_text(p.price_cents, &p.currency))
        } else {
            "Renew".to_string()
        };
        out.push(action(job, "renew", &label, true));
    }
    if payments::can_upgrade(job, config) {
        let label = format!(
            "Feature it ({})",
            price_text(p.featured_price_cents, &p.currency)
        );
        out.push(action(job, "feature", &label, true));
    }
    out.push(action(job, "duplicate", "Duplicate", true));
    out.push(action(job, "delete", "Delete", false));
    out
}

#[handler]
pub async fn index(
    req: &Request,
    Data(state): Data<&State>,
    Query(done): Query<Done>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let user_id = user.id;
    let jobs = state.db.read(move |c| owned::list(c, user_id)).await?;
    let now = state.now();
    let rows: Vec<_> = jobs
        .iter()
        .map(|job| {
            context! {
                view => view::job_view(job, &state.config, now, false),
                status => job.status.as_str(),
                live => job.is_live(now),
                hidden => job.hidden,
                rejection_reason => (job.status == crate::jobs::model::Status::Rejected).then_some(job.rejection_reason.as_deref()).flatten(),
                views => job.views,
                apply_clicks => job.apply_clicks,
                expires_at => job.expires_at.map(crate::clock::human_date),
                actions => actions(job, &state.config, now),
            }
        })
        .collect();
    super::page(
        state,
        req,
        "dashboard/index.html",
        StatusCode::OK,
        context! {
            user,
            jobs => rows,
            notice => done.notice(),
            require_verified => state.config.posting.require_verified_email,
        },
    )
}
