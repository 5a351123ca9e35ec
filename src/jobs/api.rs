//! `/api/v1/jobs`: search and read published jobs; with an API token, post
//! jobs, change them with JSON merge patches and delete them. Someone else's
//! job is not found.
//!
//! (Every operation on a path sits in this one `OpenApi` impl: poem-openapi
//! writes each impl's paths separately, and a path split over two impls
//! would appear twice in the document.)

use std::sync::Arc;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::api_input::{JobPatchBody, NewJobBody, input_shape, merge, validated};
use super::json::JobJson;
use super::{listing, owned, store};
use crate::accounts::bearer::{ApiToken, OptionalToken};
use crate::error::AppError;
use crate::payments::{self, Purchase, Purpose, checkout};
use crate::search::query::{Dim, SearchParams};
use crate::search::{FacetCounts, Want};
use crate::web::State;
use crate::web::api::{ApiError, ErrorBody};
use crate::web::limits::client_ip;

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

/// A job just posted.
#[derive(Debug, Object)]
pub struct PostedJob {
    #[oai(flatten)]
    pub job: JobJson,
    /// Where payment is due (`status` is `pending_payment`): the Stripe
    /// Checkout page to pay at. The job is published once the payment is
    /// confirmed.
    #[oai(skip_serializing_if_is_none)]
    pub checkout_url: Option<String>,
    /// Why no `checkout_url` could be made (the payment provider did not
    /// answer): the job is kept as a draft; `POST /api/v1/jobs/{id}/checkout`
    /// tries again.
    #[oai(skip_serializing_if_is_none)]
    pub payment_error: Option<String>,
}

/// Where to pay for a job.
#[derive(Debug, Object)]
pub struct Checkout {
    /// The Stripe Checkout page; the job is published once the payment is
    /// confirmed. Absent when the job turned out to be paid already.
    #[oai(skip_serializing_if_is_none)]
    pub checkout_url: Option<String>,
    /// The job's status now.
    pub status: String,
}

/// Starts paying for the post of job `id`; the Checkout URL, or `None` when
/// it was paid already.
async fn start_post_checkout(
    state: &State,
    user: &crate::accounts::User,
    id: i64,
) -> Result<Option<String>, AppError> {
    let job = state.db.read(move |c| store::get(c, id)).await?;
    let post = Purchase {
        purpose: Purpose::Post,
        featured: false,
    };
    Ok(match checkout::start(state, user, &job, post).await? {
        checkout::Next::Checkout(url) => Some(url),
        checkout::Next::Paid => None,
    })
}

/// The answer to a new job.
#[derive(Debug, ApiResponse)]
pub enum Posted {
    /// Created; `Location` is the job's API address, `status` says whether
    /// it is live (`published`), waits for review (`pending_review`) or for
    /// payment (`pending_payment`, with `checkout_url`).
    #[oai(status = 201)]
    Created(Json<PostedJob>, #[oai(header = "Location")] String),
}

/// The answer to a deletion.
#[derive(Debug, ApiResponse)]
pub enum Deleted {
    /// Deleted: gone from the board, search and feeds.
    #[oai(status = 204)]
    Deleted,
}

pub struct JobsApi;

#[OpenApi]
impl JobsApi {
    /// Search published jobs (SPEC §6). Without `q` the newest come first;
    /// featured jobs lead either way. `facets` counts each filter's values for
    /// the search with every other filter applied.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/jobs", method = "get", operation_id = "listJobs")]
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

    /// One published job. With an API token, also one of your own jobs in
    /// any status (deleted ones aside).
    #[oai(path = "/jobs/:id", method = "get", operation_id = "getJob")]
    async fn get(
        &self,
        Data(state): Data<&State>,
        auth: OptionalToken,
        id: Path<i64>,
    ) -> Result<Json<JobJson>, ApiError> {
        let owner = auth.user(state).await?.map(|u| u.id);
        let now = state.now();
        let id = id.0;
        let job = state
            .db
            .read(move |c| match owner.map(|o| owned::get(c, o, id)) {
                Some(Ok(job)) => Ok(job),
                Some(Err(e)) if !matches!(e, AppError::NotFound) => Err(e),
                _ => store::get_live(c, id, now),
            })
            .await?;
        Ok(Json(JobJson::new(&job, &state.config.base_url)))
    }

    /// Post a job. It goes live now for the board's post duration, or waits
    /// for review when the board requires approval. On a board with paid
    /// posting it waits for payment: the answer's `checkout_url` is the
    /// Stripe Checkout page to pay at. Read-only fields (`featured` among
    /// them) are ignored. Rate-limited per address and per account.
    #[oai(path = "/jobs", method = "post", operation_id = "createJob")]
    async fn create(
        &self,
        Data(state): Data<&State>,
        req: &Request,
        auth: ApiToken,
        body: NewJobBody,
    ) -> Result<Posted, ApiError> {
        let user = auth.user(state).await?;
        let new_job = validated(&body.0, body.0.clone(), &state.config.site.categories)?;
        let now = state.now();
        let rate = state.config.limits.post_per_ip;
        state.limits.hit("post_ip", &client_ip(req), rate, now)?;
        state
            .limits
            .hit("post_account", &user.id.to_string(), rate, now)?;
        let (config, st) = (Arc::clone(&state.config), state.clone());
        let paid = payments::posting_paid(&config);
        let owner = user.clone();
        let id = state
            .db
            .write(move |tx| {
                let placement = if paid {
                    owned::draft_placement()
                } else {
                    owned::submitted_placement(&config, now)
                };
                let id = owned::create(tx, &config, &owner, &new_job, placement, now)?;
                owned::queue_notices(&st, tx, id, now)?;
                Ok(id)
            })
            .await?;
        state.wake.notify();
        let (mut checkout_url, mut payment_error) = (None, None);
        if paid {
            match start_post_checkout(state, &user, id).await {
                Ok(url) => checkout_url = url,
                // The job is kept; paying can be tried again.
                Err(AppError::Unavailable(why)) => payment_error = Some(why),
                Err(e) => return Err(e.into()),
            }
        }
        let job = state.db.read(move |c| store::get(c, id)).await?;
        let location = state.url(&format!("/api/v1/jobs/{id}"));
        let job = JobJson::new(&job, &state.config.base_url);
        Ok(Posted::Created(
            Json(PostedJob {
                job,
                checkout_url,
                payment_error,
            }),
            location,
        ))
    }

    /// Start (or resume) paying for one of your jobs that waits for payment
    /// (`draft` or `pending_payment` on a board where posting costs money):
    /// the answer's `checkout_url` is the Stripe Checkout page. A job whose
    /// payment went through meanwhile answers without one.
    #[oai(
        path = "/jobs/:id/checkout",
        method = "post",
        operation_id = "checkoutJob"
    )]
    async fn checkout(
        &self,
        Data(state): Data<&State>,
        auth: ApiToken,
        id: Path<i64>,
    ) -> Result<Json<Checkout>, ApiError> {
        let user = auth.user(state).await?;
        let (id, user_id) = (id.0, user.id);
        state.db.read(move |c| owned::get(c, user_id, id)).await?;
        // Nothing to pay for (here, or for this job now): a conflict with
        // the state of things, not a malformed request.
        let conflict = |why: &str| ApiError::Conflict(Json(ErrorBody::new("conflict", why)));
        if !payments::posting_paid(&state.config) {
            return Err(conflict("Posting on this board is free."));
        }
        let checkout_url = match start_post_checkout(state, &user, id).await {
            Ok(url) => url,
            Err(AppError::BadRequest(why)) => return Err(conflict(&why)),
            Err(e) => return Err(e.into()),
        };
        let job = state.db.read(move |c| store::get(c, id)).await?;
        Ok(Json(Checkout {
            checkout_url,
            status: job.status.as_str().to_string(),
        }))
    }

    /// Change one of your jobs with a JSON merge patch (RFC 7396) of the job
    /// input: fields given replace the job's, `null` removes an optional
    /// field, read-only fields are ignored. The job keeps its status (a live
    /// job stays live).
    #[oai(path = "/jobs/:id", method = "patch", operation_id = "updateJob")]
    async fn update(
        &self,
        Data(state): Data<&State>,
        auth: ApiToken,
        id: Path<i64>,
        body: JobPatchBody,
    ) -> Result<Json<JobJson>, ApiError> {
        let user = auth.user(state).await?;
        let (id, now, config) = (id.0, state.now(), Arc::clone(&state.config));
        let st = state.clone();
        let job = state
            .db
            .write(move |tx| {
                let mut shape = input_shape(&owned::get(tx, user.id, id)?);
                merge(&mut shape, body.0.clone());
                let new_job = validated(&body.0, shape, &config.site.categories)?;
                if owned::update(tx, &config, &user, id, &new_job, now)? {
                    owned::queue_notices(&st, tx, id, now)?;
                }
                owned::get(tx, user.id, id)
            })
            .await?;
        state.wake.notify();
        Ok(Json(JobJson::new(&job, &state.config.base_url)))
    }

    /// Delete one of your jobs: it leaves the board at once (payment records
    /// are kept).
    #[oai(path = "/jobs/:id", method = "delete", operation_id = "deleteJob")]
    async fn delete(
        &self,
        Data(state): Data<&State>,
        auth: ApiToken,
        id: Path<i64>,
    ) -> Result<Deleted, ApiError> {
        let user = auth.user(state).await?;
        let (id, now) = (id.0, state.now());
        state
            .db
            .write(move |tx| owned::delete(tx, user.id, id, now))
            .await?;
        checkout::clear_after_change(state, id).await;
        Ok(Deleted::Deleted)
    }
}
