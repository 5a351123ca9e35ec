//! `/sitemap.xml` (a sitemap, or a sitemap index once the board outgrows one
//! file), `/sitemaps/{part}.xml`, and `/robots.txt`.

use poem::web::{Data, Path};
use poem::{Response, handler};
use serde::Serialize;

use crate::clock::rfc3339;
use crate::error::AppError;
use crate::web::State;

/// URLs per sitemap file; the protocol allows 50,000.
const PER_FILE: i64 = 40_000;

#[derive(Serialize)]
struct Url {
    loc: String,
    lastmod: Option<String>,
}

fn xml(body: bytes::Bytes) -> Response {
    Response::builder()
        .content_type("application/xml; charset=utf-8")
        .body(body)
}

/// The home page, the listing and every company with live jobs.
fn site_urls(state: &State, companies: Vec<(String, i64)>) -> Vec<Url> {
    let mut urls = vec![
        Url {
            loc: state.url("/"),
            lastmod: None,
        },
        Url {
            loc: state.url("/jobs"),
            lastmod: None,
        },
    ];
    urls.extend(companies.into_iter().map(|(slug, at)| Url {
        loc: state.url(&format!("/companies/{slug}")),
        lastmod: Some(rfc3339(at)),
    }));
    urls
}

fn job_urls(state: &State, jobs: Vec<(String, i64)>) -> impl Iterator<Item = Url> {
    jobs.into_iter().map(|(path, at)| Url {
        loc: state.url(&path),
        lastmod: Some(rfc3339(at)),
    })
}

#[handler]
pub async fn sitemap(Data(state): Data<&State>, req: &poem::Request) -> poem::Result<Response> {
    let now = state.now();
    let total = state
        .db
        .read(move |c| crate::jobs::store::count_live(c, now))
        .await?;
    let resp = state
        .cached_page(req, || async {
            if total <= PER_FILE {
                let (companies, jobs) = state
                    .db
                    .read(move |c| {
                        Ok((
                            crate::companies::store::with_live_jobs(c, now)?,
                            crate::jobs::store::live_paths(c, now, PER_FILE, 0)?,
                        ))
                    })
                    .await?;
                let mut urls = site_urls(state, companies);
                urls.extend(job_urls(state, jobs));
                return state.render("feeds/sitemap.xml", minijinja::context! { urls });
            }
            let parts = (total + PER_FILE - 1) / PER_FILE;
            let mut maps = vec![Url {
                loc: state.url("/sitemaps/site.xml"),
                lastmod: None,
            }];
            maps.extend((1..=parts).map(|n| Url {
                loc: state.url(&format!("/sitemaps/jobs-{n}.xml")),
                lastmod: None,
            }));
            state.render(
                "feeds/sitemap_index.xml",
                minijinja::context! { sitemaps => maps },
            )
        })
        .await?;
    Ok(xml(resp.into_body().into_bytes().await?))
}

#[handler]
pub async fn sitemap_part(
    Data(state): Data<&State>,
    req: &poem::Request,
    Path(file): Path<String>,
) -> poem::Result<Response> {
    let now = state.now();
    let part = file
        .strip_suffix(".xml")
        .ok_or(AppError::NotFound)?
        .to_string();
    let resp = state
        .cached_page(req, || async {
            let urls = if part == "site" {
                let companies = state
                    .db
                    .read(move |c| crate::companies::store::with_live_jobs(c, now))
                    .await?;
                site_urls(state, companies)
            } else {
                let n: i64 = part
                    .strip_prefix("jobs-")
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or(AppError::NotFound)?;
                let jobs = state
                    .db
                    .read(move |c| {
                        crate::jobs::store::live_paths(c, now, PER_FILE, (n - 1) * PER_FILE)
                    })
                    .await?;
                if jobs.is_empty() {
                    return Err(AppError::NotFound);
                }
                job_urls(state, jobs).collect()
            };
            state.render("feeds/sitemap.xml", minijinja::context! { urls })
        })
        .await?;
    Ok(xml(resp.into_body().into_bytes().await?))
}

#[handler]
pub fn robots(Data(state): Data<&State>) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /api/\nDisallow: /jobs/*/apply\nAllow: /\n\nSitemap: {}\n",
        state.url("/sitemap.xml")
    );
    Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
