//! `/companies/{slug}`: a company and its live jobs.

use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use super::store;
use crate::jobs::view;
use crate::web::State;

#[handler]
pub async fn show(
    Data(state): Data<&State>,
    req: &Request,
    Path(slug): Path<String>,
) -> poem::Result<Response> {
    Ok(state
        .cached_page(req, || async {
            let now = state.now();
            let (company, jobs) = state
                .db
                .read(move |c| store::profile(c, &slug, now))
                .await?;
            let cards: Vec<view::JobView> = jobs
                .iter()
                .map(|j| view::job_view(j, &state.config, now, false))
                .collect();
            state.render(
                "companies/show.html",
                minijinja::context! {
                    canonical => state.url(&format!("/companies/{}", company.slug)),
                    company => view::company_view(&company.name, &company.slug, &company.website, &company.logo_url),
                    // Sanitised by the renderer: safe to place as HTML.
                    description_html => company
                        .description
                        .as_deref()
                        .filter(|d| !d.trim().is_empty())
                        .map(|d| minijinja::Value::from_safe_string(crate::markdown::to_html(d))),
                    jobs => cards,
                },
            )
        })
        .await?)
}
