//! A job's page and its apply link.

use super::model::Job;
use super::store;
use super::view;
use crate::error::AppError;
use crate::web::{self, State};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

/// `12-senior-rust-engineer` → 12 and the slug (which may be empty or wrong).
fn split_id_slug(s: &str) -> Option<(i64, &str)> {
    let (id, slug) = s.split_once('-').unwrap_or((s, ""));
    let id: i64 = id.parse().ok().filter(|i| *i > 0)?;
    Some((id, slug))
}

/// A job with a public page (live, or closed after being live).
async fn public_job(state: &State, id: i64) -> Result<Job, AppError> {
    let job = state.db.read(move |c| store::get(c, id)).await?;
    if view::has_public_page(&job) {
        Ok(job)
    } else {
        Err(AppError::NotFound)
    }
}

/// A job page's render either fails or finds the job under another slug.
struct Redirect(String);

enum ShowError {
    Moved(Redirect),
    App(AppError),
}

#[handler]
pub async fn show(
    Data(state): Data<&State>,
    req: &Request,
    Path(id_slug): Path<String>,
) -> poem::Result<Response> {
    let (id, slug) = split_id_slug(&id_slug).ok_or(AppError::NotFound)?;
    let now = state.now();
    let key = req.uri().path();
    let rendered = state
        .pages
        .get_or_render(key, state.content_version(), now, || async {
            let job = public_job(state, id).await.map_err(ShowError::App)?;
            if job.slug != slug {
                return Err(ShowError::Moved(Redirect(job.path())));
            }
            let page = view::job_view(&job, &state.config, now, true);
            let json_ld = page.is_open.then(|| view::json_ld(&job, &state.config));
            state
                .render(
                    "jobs/show.html",
                    minijinja::context! {
                        og_description => crate::markdown::summary(&job.description, 200),
                        canonical => state.url(&job.path()),
                        json_ld,
                        job => page,
                    },
                )
                .map_err(ShowError::App)
        })
        .await;
    let body = match rendered {
        Ok(body) => body,
        Err(ShowError::Moved(Redirect(to))) => return Ok(web::moved_permanently(&to)),
        Err(ShowError::App(e)) => return Err(e.into()),
    };
    state.counters.view(id);
    Ok(web::html(body))
}

#[handler]
pub async fn apply(Data(state): Data<&State>, Path(id): Path<String>) -> poem::Result<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let job = public_job(state, id).await?;
    let now = state.now();
    if !job.is_live(now) {
        // Closed: back to its page, which says so.
        return Ok(web::found(&job.path()));
    }
    state.counters.apply_click(id);
    if let Some(url) = &job.apply_url {
        return Ok(web::found(url));
    }
    let body = state.render(
        "jobs/apply_email.html",
        minijinja::context! { job => view::job_view(&job, &state.config, now, false) },
    )?;
    let mut resp = web::html(body);
    resp.headers_mut().insert(
        poem::http::header::CACHE_CONTROL,
        poem::http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_slug() {
        assert_eq!(split_id_slug("12-senior-dev"), Some((12, "senior-dev")));
        assert_eq!(split_id_slug("12"), Some((12, "")));
        assert_eq!(split_id_slug("x-1"), None);
        assert_eq!(split_id_slug("0-a"), None);
    }
}
