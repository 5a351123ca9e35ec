//! The board (`/`) and search results (`/jobs`): one page, shaped by the search
//! parameters of SPEC §6 and kept in the URL, so every search can be shared.

use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Serialize;

use super::model::{JobType, Region};
use super::store;
use super::view::{self, JobView};
use crate::error::AppError;
use crate::search::query::{Dim, SearchParams, Sort, encode};
use crate::search::{FacetCounts, Found, Want};
use crate::web::State;

/// Pagination links for templates.
#[derive(Debug, Serialize)]
pub struct Pager {
    pub page: i64,
    pub total_pages: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pager {
    /// Links to the pages around `page` of `base` (a path with its query).
    pub fn new(path: &str, query: &str, page: i64, per_page: i64, total: i64) -> Pager {
        let total_pages = ((total + per_page - 1) / per_page).max(1);
        let link = |p: i64| {
            let mut q = query.to_string();
            if p > 1 {
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(&format!("page={p}"));
            }
            if q.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{q}")
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

/// One choice of a filter, with its count and the link that toggles it.
#[derive(Debug, Serialize)]
struct Choice {
    value: String,
    label: String,
    count: u64,
    selected: bool,
    url: String,
}

/// A filter that is on, and the link that turns it off.
#[derive(Debug, Serialize)]
struct Active {
    label: String,
    remove_url: String,
}

/// Everything the search form and its facets show.
#[derive(Debug, Serialize)]
struct SearchView {
    q: String,
    sort: &'static str,
    categories: Vec<Choice>,
    job_types: Vec<Choice>,
    regions: Vec<Choice>,
    tags: Vec<Choice>,
    salary_min: Option<i64>,
    posted_within: Option<i64>,
    active: Vec<Active>,
    feed_url: String,
    /// Without the words, when words and filters together find nothing.
    without_words_url: Option<String>,
}

fn url(p: &SearchParams) -> String {
    let q = encode(&p.to_query());
    if q.is_empty() {
        "/jobs".into()
    } else {
        format!("/jobs?{q}")
    }
}

fn count_of(values: &[(String, u64)], value: &str) -> u64 {
    values
        .iter()
        .find(|(v, _)| v == value)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

fn search_view(state: &State, p: &SearchParams, facets: &FacetCounts) -> SearchView {
    let mut base = p.clone();
    base.page = 1;
    let categories = state
        .config
        .site
        .categories
        .iter()
        .map(|c| {
            let mut next = base.clone();
            let selected = p.category.as_deref() == Some(c.slug.as_str());
            next.category = (!selected).then(|| c.slug.clone());
            Choice {
                value: c.slug.clone(),
                label: c.label.clone(),
                count: count_of(&facets.category, &c.slug),
                selected,
                url: url(&next),
            }
        })
        .collect();
    let job_types = JobType::ALL
        .iter()
        .map(|t| {
            let mut next = base.clone();
            let selected = p.job_type == Some(*t);
            next.job_type = (!selected).then_some(*t);
            Choice {
                value: t.as_str().into(),
                label: t.label().into(),
                count: count_of(&facets.job_type, t.as_str()),
                selected,
                url: url(&next),
            }
        })
        .collect();
    let regions = Region::ALL
        .iter()
        .map(|r| {
            let mut next = base.clone();
            let selected = p.remote.contains(r);
            if selected {
                next.remote.retain(|x| x != r);
            } else {
                next.remote.push(*r);
            }
            Choice {
                value: r.as_str().into(),
                label: r.label().into(),
                count: count_of(&facets.remote, r.as_str()),
                selected,
                url: url(&next),
            }
        })
        .collect();
    let mut tags: Vec<Choice> = facets
        .tags
        .iter()
        .map(|(t, n)| {
            let mut next = base.clone();
            let selected = p.tags.contains(t);
            if selected {
                next.tags.retain(|x| x != t);
            } else {
                next.tags.push(t.clone());
            }
            Choice {
                value: t.clone(),
                label: t.clone(),
                count: *n,
                selected,
                url: url(&next),
            }
        })
        .collect();
    for t in &p.tags {
        if !tags.iter().any(|c| &c.value == t) {
            let mut next = base.clone();
            next.tags.retain(|x| x != t);
            tags.push(Choice {
                value: t.clone(),
                label: t.clone(),
                count: 0,
                selected: true,
                url: url(&next),
            });
        }
    }

    let mut active = Vec::new();
    let mut drop = |label: String, change: &dyn Fn(&mut SearchParams)| {
        let mut next = base.clone();
        change(&mut next);
        active.push(Active {
            label,
            remove_url: url(&next),
        });
    };
    if !p.q.is_empty() {
        drop(format!("“{}”", p.q), &|n| n.q.clear());
    }
    if let Some(c) = &p.category {
        let label = state
            .config
            .site
            .categories
            .iter()
            .find(|x| &x.slug == c)
            .map(|x| x.label.clone())
            .unwrap_or_else(|| c.clone());
        drop(label, &|n| n.category = None);
    }
    if let Some(t) = p.job_type {
        drop(t.label().into(), &|n| n.job_type = None);
    }
    for r in &p.remote {
        let r = *r;
        drop(format!("Remote: {}", r.label()), &move |n| {
            n.remote.retain(|x| *x != r)
        });
    }
    for t in &p.tags {
        let t2 = t.clone();
        drop(format!("Tag: {t}"), &move |n| n.tags.retain(|x| *x != t2));
    }
    if let Some(s) = p.salary_min {
        drop(format!("Salary from {s}"), &|n| n.salary_min = None);
    }
    if let Some(d) = p.posted_within {
        drop(format!("Posted within {d} days"), &|n| {
            n.posted_within = None
        });
    }
    let mut feed = base.clone();
    feed.sort = None;
    feed.per_page = crate::search::query::DEFAULT_PER_PAGE;
    let feed_q = encode(&feed.to_query());
    let without_words_url = (!p.q.is_empty() && p.has_filters()).then(|| {
        let mut n = base.clone();
        n.q.clear();
        url(&n)
    });
    SearchView {
        q: p.q.clone(),
        sort: match p.effective_sort() {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
        },
        categories,
        job_types,
        regions,
        tags,
        salary_min: p.salary_min,
        posted_within: p.posted_within,
        active,
        feed_url: if feed_q.is_empty() {
            "/feed.xml".into()
        } else {
            format!("/feed.xml?{feed_q}")
        },
        without_words_url,
    }
}

/// Runs a search off the async runtime; `None` while the index is built.
pub async fn find(state: &State, p: SearchParams, want: Want) -> Result<Option<Found>, AppError> {
    let _permit = state
        .searching
        .acquire()
        .await
        .map_err(|_| AppError::Unavailable("shutting down".into()))?;
    let search = state.search.clone();
    let db = state.db.clone();
    let now = state.now();
    let metrics = state.metrics.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _request = span.enter();
        let started = std::time::Instant::now();
        let found = search.find(&db, &p, now, want);
        if matches!(found, Ok(Some(_))) {
            metrics.search(started.elapsed());
        }
        found
    })
    .await
    .map_err(|e| AppError::internal(format!("search task failed: {e}")))?
}

/// The listing page for these parameters.
async fn render(state: &State, p: SearchParams, is_home: bool) -> Result<bytes::Bytes, AppError> {
    let now = state.now();
    let path = if is_home { "/" } else { "/jobs" };
    let (jobs, total, facets, snippets, warming) = match find(
        state,
        p.clone(),
        Want {
            facets: true,
            snippets: true,
        },
    )
    .await?
    {
        Some(found) => (
            found.jobs,
            found.total as i64,
            found.facets,
            found.snippets,
            false,
        ),
        None => {
            // The index is being built: the newest jobs from the database meanwhile.
            let (per_page, page) = (p.per_page, p.page);
            let (jobs, total) = state
                .db
                .read(move |c| store::newest(c, now, per_page, page))
                .await?;
            (
                jobs,
                total,
                FacetCounts::default(),
                Default::default(),
                true,
            )
        }
    };
    let cards: Vec<JobView> = jobs
        .iter()
        .map(|j| {
            let mut v = view::job_view(j, &state.config, now, false);
            v.snippet_html = snippets.get(&j.id).cloned();
            v
        })
        .collect();
    let query = encode(&p.to_query());
    let canonical = state.url(&match (query.is_empty(), p.page) {
        (true, 1) => path.to_string(),
        (true, n) => format!("{path}?page={n}"),
        (false, 1) => format!("{path}?{query}"),
        (false, n) => format!("{path}?{query}&page={n}"),
    });
    let searching = !p.q.is_empty() || p.has_filters();
    let heading = match (is_home, searching) {
        (true, false) => "Latest jobs".to_string(),
        (_, true) if !p.q.is_empty() => format!("Jobs matching “{}”", p.q),
        (_, true) => "Filtered jobs".to_string(),
        (false, false) => "All jobs".to_string(),
    };
    state.render(
        "jobs/list.html",
        minijinja::context! {
            heading,
            is_home,
            searching,
            warming,
            jobs => cards,
            total,
            pager => Pager::new(path, &query, p.page, p.per_page, total),
            canonical,
            search => search_view(state, &p, &facets),
            q => p.q.clone(),
        },
    )
}

/// The search parameters of a page's query string; bad values are ignored.
fn params(state: &State, pairs: &[(String, String)]) -> SearchParams {
    SearchParams::from_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &state.config.site.categories,
        false,
    )
    .unwrap_or_default()
}

#[handler]
pub async fn home(
    Data(state): Data<&State>,
    req: &Request,
    Query(pairs): Query<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let p = params(state, &pairs);
    Ok(state.cached_page(req, || render(state, p, true)).await?)
}

#[handler]
pub async fn list(
    Data(state): Data<&State>,
    req: &Request,
    Query(pairs): Query<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let p = params(state, &pairs);
    Ok(state.cached_page(req, || render(state, p, false)).await?)
}

/// A dimension's facet as the API lists it: value, label, count.
pub fn labelled(state: &State, facets: &FacetCounts, d: Dim) -> Vec<(String, String, u64)> {
    let values = match d {
        Dim::Category => &facets.category,
        Dim::JobType => &facets.job_type,
        Dim::Remote => &facets.remote,
        Dim::Tags => &facets.tags,
    };
    values
        .iter()
        .map(|(v, n)| {
            let label = match d {
                Dim::Category => state
                    .config
                    .site
                    .categories
                    .iter()
                    .find(|c| &c.slug == v)
                    .map(|c| c.label.clone()),
                Dim::JobType => JobType::parse(v).map(|t| t.label().to_string()),
                Dim::Remote => Region::parse(v).map(|r| r.label().to_string()),
                Dim::Tags => None,
            };
            (v.clone(), label.unwrap_or_else(|| v.clone()), *n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_links_keep_the_search() {
        let p = Pager::new("/jobs", "q=rust", 2, 20, 45);
        assert_eq!(p.total_pages, 3);
        assert_eq!(p.prev_url.as_deref(), Some("/jobs?q=rust"));
        assert_eq!(p.next_url.as_deref(), Some("/jobs?q=rust&page=3"));
        assert_eq!(Pager::new("/", "", 1, 20, 0).total_pages, 1);
        assert_eq!(
            Pager::new("/", "", 2, 20, 45).prev_url.as_deref(),
            Some("/")
        );
    }
}
