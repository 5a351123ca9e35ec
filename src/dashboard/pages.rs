//! `GET /dashboard`: the signed-in employer's jobs.

use minijinja::context;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};

use crate::accounts::session::CurrentUser;
use crate::jobs::owned;
use crate::jobs::view;
use crate::web::{self, State, forms};

#[handler]
pub async fn index(
    req: &Request,
    Data(state): Data<&State>,
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
                views => job.views,
                apply_clicks => job.apply_clicks,
                expires_at => job.expires_at.map(crate::clock::human_date),
            }
        })
        .collect();
    let csrf = forms::token_for(req)?;
    let body = state.render(
        "dashboard/index.html",
        context! {
            csrf,
            user,
            jobs => rows,
            require_verified => state.config.posting.require_verified_email,
        },
    )?;
    Ok(web::private_html(body, StatusCode::OK))
}
