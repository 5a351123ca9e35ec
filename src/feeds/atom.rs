//! `/feed.xml`: an Atom feed (RFC 4287) of the newest published jobs for any
//! search; it takes the search parameters of SPEC §6.

use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Serialize;

use crate::clock::rfc3339;
use crate::jobs::store;
use crate::search::query::{SearchParams, Sort, encode};
use crate::web::State;

/// Entries per feed.
const ENTRIES: i64 = 50;

#[derive(Serialize)]
struct Entry {
    id: String,
    title: String,
    url: String,
    company: String,
    updated: String,
    published: String,
    summary: String,
    content_html: String,
    category: String,
}

#[handler]
pub async fn feed(
    Data(state): Data<&State>,
    req: &Request,
    Query(pairs): Query<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let mut p = SearchParams::from_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &state.config.site.categories,
        false,
    )
    .unwrap_or_default();
    p.sort = Some(Sort::Newest);
    p.page = 1;
    p.per_page = ENTRIES;
    let page = state
        .cached_page(req, || async {
            let now = state.now();
            let jobs =
                match crate::jobs::listing::find(state, p.clone(), Default::default()).await? {
                    Some(found) => found.jobs,
                    None => {
                        state
                            .db
                            .read(move |c| store::list_live(c, now, ENTRIES, 0))
                            .await?
                    }
                };
            let updated = jobs.iter().map(|j| j.updated_at).max().unwrap_or(now);
            let entries: Vec<Entry> = jobs
                .iter()
                .map(|j| Entry {
                    id: state.url(&format!("/jobs/{}", j.id)),
                    title: j.title.clone(),
                    url: state.url(&j.path()),
                    company: j.company.name.clone(),
                    updated: rfc3339(j.updated_at),
                    published: rfc3339(j.published_at.unwrap_or(j.created_at)),
                    summary: crate::markdown::summary(&j.description, 280),
                    content_html: j.description_html.clone(),
                    category: j.category.clone(),
                })
                .collect();
            let query = encode(
                &p.to_query()
                    .into_iter()
                    .filter(|(k, _)| *k != "sort" && *k != "per_page")
                    .collect::<Vec<_>>(),
            );
            let suffix = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            let title = if p.q.is_empty() && !p.has_filters() {
                format!("{}: newest jobs", state.config.site.name)
            } else if !p.q.is_empty() {
                format!("{}: jobs matching “{}”", state.config.site.name, p.q)
            } else {
                format!("{}: filtered jobs", state.config.site.name)
            };
            state.render(
                "feeds/atom.xml",
                minijinja::context! {
                    feed_id => state.url(&format!("/feed.xml{suffix}")),
                    self_url => state.url(&format!("/feed.xml{suffix}")),
                    html_url => state.url(&format!("/jobs{suffix}")),
                    title,
                    updated => rfc3339(updated),
                    entries,
                },
            )
        })
        .await?;
    let body = page.into_body().into_bytes().await?;
    Ok(Response::builder()
        .content_type("application/atom+xml; charset=utf-8")
        .body(body))
}
