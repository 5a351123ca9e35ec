//! `/api/v1/jobs`: the read side of the jobs API.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::json::JobJson;
use super::store;
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

/// The default and largest page sizes.
pub const PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;

/// Clamps a requested page and page size.
pub fn paging(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    (
        page.unwrap_or(1).max(1),
        per_page.unwrap_or(PER_PAGE).clamp(1, MAX_PER_PAGE),
    )
}

pub struct JobsApi;

#[OpenApi]
impl JobsApi {
    /// Published jobs, featured first then newest.
    #[oai(path = "/jobs", method = "get")]
    async fn list(
        &self,
        Data(state): Data<&State>,
        /// Page number, from 1.
        page: Query<Option<i64>>,
        /// Jobs per page (default 20, at most 100; larger is clamped).
        per_page: Query<Option<i64>>,
    ) -> Result<Json<JobList>, ApiError> {
        let (page, per_page) = paging(page.0, per_page.0);
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
        let base = &state.config.base_url;
        Ok(Json(JobList {
            jobs: jobs.iter().map(|j| JobJson::new(j, base)).collect(),
            total,
            page,
            per_page,
            facets: Facets::default(),
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
