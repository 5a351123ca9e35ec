//! Job pages: the board (`/`), the listing (`/jobs`), a job, and its apply link.

use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::api::paging;
use super::model::Job;
use super::store;
use super::view::{self, JobView};
use crate::error::AppError;
use crate::web::{self, State};

/// Pagination links for templates.
#[derive(Debug, Serialize)]
pub struct Pager {
    pub page: i64,
    pub total_pages: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pager {
    pub fn new(path: &str, page: i64, per_page: i64, total: i64) -> Pager {
        let total_pages = ((total + per_page - 1) / per_page).max(1);
        let link = |p: i64| {
            if p == 1 {
                path.to_string()
            } else {
                format!("{path}?page={p}")
            }
        };
        Pager {
            page,
            total_pages,
            prev_url: (page > 1).then(|| link((page - 1).min(total_pages))),
            next_url: (page < total_pages).then(|| link(page + 1)),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<String>,
}

/// Featured then newest live jobs, one page of them.
async fn listing(
    state: &State,
    req: &Request,
    query: ListQuery,
    is_home: bool,
) -> Result<Response, AppError> {
    // Pages ignore a malformed page number rather than failing.
    let page = query.page.and_then(|p| p.trim().parse::<i64>().ok());
    let (page, per_page) = paging(page, None);
    state
        .cached_page(req, || async {
            let now = state.now();
            let offset = (page - 1).saturating_mul(per_page);
            let (jobs, total) = state
                .db
                .read(move |c| {
                    Ok((
                        store::list_live(c, now, per_page, offset)?,
                        store::count_live(c, now)?,
                    ))
                })
                .await?;
            let path = if is_home { "/" } else { "/jobs" };
            let cards: Vec<JobView> = jobs
                .iter()
                .map(|j| view::job_view(j, &state.config, now, false))
                .collect();
            let canonical = match page {
                1 => state.url(path),
                p => state.url(&format!("{path}?page={p}")),
            };
            state.render(
                "jobs/list.html",
                minijinja::context! {
                    heading => if is_home { "Latest jobs" } else { "All jobs" },
                    is_home,
                    jobs => cards,
                    total,
                    pager => Pager::new(path, page, per_page, total),
                    canonical,
                },
            )
        })
        .await
}

#[handler]
pub async fn home(
    Data(state): Data<&State>,
    req: &Request,
    Query(q): Query<ListQuery>,
) -> poem::Result<Response> {
    Ok(listing(state, req, q, true).await?)
}

#[handler]
pub async fn list(
    Data(state): Data<&State>,
    req: &Request,
    Query(q): Query<ListQuery>,
) -> poem::Result<Response> {
    Ok(listing(state, req, q, false).await?)
}

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
        .get_or_render(key, state.db.version(), now, || async {
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

    #[test]
    fn pager_links() {
        let p = Pager::new("/jobs", 2, 20, 45);
        assert_eq!(p.total_pages, 3);
        assert_eq!(p.prev_url.as_deref(), Some("/jobs"));
        assert_eq!(p.next_url.as_deref(), Some("/jobs?page=3"));
        assert_eq!(Pager::new("/", 1, 20, 0).total_pages, 1);
    }
}
