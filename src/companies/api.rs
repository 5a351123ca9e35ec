//! `/api/v1/companies/{slug}`.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::store;
use crate::jobs::json::JobJson;
use crate::web::State;
use crate::web::api::ApiError;

/// A company's public profile.
#[derive(Debug, Object)]
pub struct CompanyProfile {
    pub name: String,
    pub slug: String,
    #[oai(nullable)]
    pub website: Option<String>,
    #[oai(nullable)]
    pub logo_url: Option<String>,
    #[oai(nullable)]
    pub description: Option<String>,
    /// The company's page.
    pub url: String,
}

/// A company and its live jobs.
#[derive(Debug, Object)]
pub struct CompanyWithJobs {
    pub company: CompanyProfile,
    pub jobs: Vec<JobJson>,
}

pub struct CompaniesApi;

#[OpenApi]
impl CompaniesApi {
    /// A company and its live jobs.
    #[oai(path = "/companies/:slug", method = "get", operation_id = "getCompany")]
    async fn get(
        &self,
        Data(state): Data<&State>,
        slug: Path<String>,
    ) -> Result<Json<CompanyWithJobs>, ApiError> {
        let now = state.now();
        let slug = slug.0;
        let (company, jobs) = state
            .db
            .read(move |c| store::profile(c, &slug, now))
            .await?;
        let base = &state.config.base_url;
        Ok(Json(CompanyWithJobs {
            company: CompanyProfile {
                url: format!("{base}/companies/{}", company.slug),
                name: company.name,
                slug: company.slug,
                website: company.website,
                logo_url: company.logo_url,
                description: company.description,
            },
            jobs: jobs.iter().map(|j| JobJson::new(j, base)).collect(),
        }))
    }
}
