//! `/api/v1/jobs`: the read side of the jobs API.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::json::JobJson;
use super::{listing, store};
use crate::error::AppError;
use crate::search::query::{Dim, SearchParams};
use crate::search::{FacetCounts, Want};
use crate::web::State;
use crate::web::api::ApiError;

/// One value of a facet and how many jobs have it.
#[derive(Debug, Clone, Object)]
pub struct FacetCount {
    pub value: String,
    pub label: String,
    pub count: i64,
}

/// Counts per value for the current search, by count then value.
#[derive(Debug, Clone, Default, Object)]
pub struct Facets {
    pub category: Vec<FacetCount>,
    pub job_type: Vec<FacetCount>,
    pub remote: Vec<FacetCount>,
    pub tags: Vec<FacetCount>,
}

/// A page of jobs.
#[derive(Debug, Object)]
pub struct JobList {
    pub jobs: Vec<JobJson>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub facets: Facets,
}

fn facet_list(state: &State, facets: &FacetCounts, d: Dim) -> Vec<FacetCount> {
    listing::labelled(state, facets, d)
        .into_iter()
        .map(|(value, label, count)| FacetCount {
            value,
            label,
            count: count as i64,
        })
        .collect()
}

pub struct JobsApi;

#[OpenApi]
impl JobsApi {
    /// Search published jobs (SPEC §6). Without `q` the newest come first;
    /// featured jobs lead either way. `facets` counts each filter's values for
    /// the search with every other filter applied.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/jobs", method = "get")]
    async fn list(
        &self,
        Data(state): Data<&State>,
        /// Full text over title, company, tags and description; all words
        /// required; `"quoted phrases"`; one typo allowed in words of 5+ letters.
        q: Query<Option<String>>,
        /// A category slug (or display name).
        category: Query<Option<String>>,
        /// `full_time`, `part_time`, `contract` or `internship`.
        job_type: Query<Option<String>>,
        /// A tag; repeat for several (all required).
        tag: Query<Vec<String>>,
        /// A region; repeat for several (any); worldwide jobs match every region.
        remote: Query<Vec<String>>,
        /// Jobs whose top salary reaches this (in the job's own currency and period).
        salary_min: Query<Option<String>>,
        /// Published within this many days.
        posted_within: Query<Option<String>>,
        /// `relevance` (default with `q`) or `newest`.
        sort: Query<Option<String>>,
        /// Page number, from 1.
        page: Query<Option<String>>,
        /// Jobs per page (default 20, at most 100; larger is clamped).
        per_page: Query<Option<String>>,
    ) -> Result<Json<JobList>, ApiError> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for (name, value) in [
            ("q", &q.0),
            ("category", &category.0),
            ("job_type", &job_type.0),
            ("salary_min", &salary_min.0),
            ("posted_within", &posted_within.0),
            ("sort", &sort.0),
            ("page", &page.0),
            ("per_page", &per_page.0),
        ] {
            if let Some(v) = value {
                pairs.push((name, v.as_str()));
            }
        }
        pairs.extend(tag.0.iter().map(|t| ("tag", t.as_str())));
        pairs.extend(remote.0.iter().map(|r| ("remote", r.as_str())));
        let p = SearchParams::from_pairs(pairs, &state.config.site.categories, true)
            .map_err(|fields| ApiError::from(AppError::Invalid(fields)))?;
        let (page, per_page) = (p.page, p.per_page);
        let base = &state.config.base_url;
        let (jobs, total, facets) = match listing::find(
            state,
            p.clone(),
            Want {
                facets: true,
                snippets: false,
            },
        )
        .await?
        {
            Some(found) => {
                let facets = Facets {
                    category: facet_list(state, &found.facets, Dim::Category),
                    job_type: facet_list(state, &found.facets, Dim::JobType),
                    remote: facet_list(state, &found.facets, Dim::Remote),
                    tags: facet_list(state, &found.facets, Dim::Tags),
                };
                (found.jobs, found.total as i64, facets)
            }
            None if p.q.is_empty() && !p.has_filters() => {
                // The index is being built: the newest jobs from the database meanwhile.
                let now = state.now();
                let (jobs, total) = state
                    .db
                    .read(move |c| store::newest(c, now, per_page, page))
                    .await?;
                (jobs, total, Facets::default())
            }
            None => {
                return Err(AppError::Unavailable(
                    "search is warming up; try again in a few seconds".into(),
                )
                .into());
            }
        };
        Ok(Json(JobList {
            jobs: jobs.iter().map(|j| JobJson::new(j, base)).collect(),
            total,
            page,
            per_page,
            facets,
        }))
    }

    /// One published job.
    #[oai(path = "/jobs/:id", method = "get")]
    async fn get(
        &self,
        Data(state): Data<&State>,
        id: Path<i64>,
    ) -> Result<Json<JobJson>, ApiError> {
        let now = state.now();
        let id = id.0;
        let job = state.db.read(move |c| store::get_live(c, id, now)).await?;
        Ok(Json(JobJson::new(&job, &state.config.base_url)))
    }
}
