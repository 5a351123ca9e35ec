//! The employer's dashboard: their jobs with status and counts, the actions on
//! each, their company profile and logo, and their API tokens.

pub mod company;
pub mod jobs;
pub mod logo;
pub mod pages;
pub mod receipts;
pub mod tokens;

use minijinja::Value;
use poem::http::StatusCode;
use poem::{Request, Response, Route, get, post};
use serde::Deserialize;

use crate::error::AppError;
use crate::web::{State, forms};

/// Routes under `/dashboard`, with their full paths (nested without
/// stripping, so handlers see the path the browser asked for).
pub fn routes() -> Route {
    Route::new()
        .at("/dashboard", get(pages::index))
        .at(
            "/dashboard/jobs/:id/edit",
            get(jobs::edit_form).post(jobs::edit),
        )
        .at("/dashboard/jobs/:id/fill", post(jobs::fill))
        .at("/dashboard/jobs/:id/renew", post(jobs::renew))
        .at("/dashboard/jobs/:id/feature", post(jobs::feature))
        .at("/dashboard/receipts", get(receipts::page))
        .at("/dashboard/jobs/:id/duplicate", post(jobs::duplicate))
        .at("/dashboard/jobs/:id/submit", post(jobs::submit))
        .at(
            "/dashboard/jobs/:id/delete",
            get(jobs::delete_page).post(jobs::delete),
        )
        .at(
            "/dashboard/company",
            get(company::profile_page).post(company::save_profile),
        )
        .at("/dashboard/company/logo", post(company::upload_logo))
        .at(
            "/dashboard/tokens",
            get(tokens::list_page).post(tokens::create),
        )
        .at("/dashboard/tokens/:id/revoke", post(tokens::revoke))
}

/// `?done=…` after a redirect: which action just succeeded.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    pub done: Option<String>,
    /// Back from Stripe Checkout without paying.
    pub canceled: Option<String>,
}

impl Done {
    /// What to tell the user about it (only known actions: nothing from the
    /// query string reaches the page).
    pub fn notice(&self) -> Option<&'static str> {
        if self.canceled.is_some() {
            return Some("Payment cancelled: nothing was charged.");
        }
        Some(match self.done.as_deref()? {
            "saved" => "Your changes are saved.",
            "review" => "Your changes are saved, and the job is back in the review queue.",
            "filled" => "The job is marked as filled. Its page stays up, marked as no longer open.",
            "renewed" => "The job is renewed.",
            "live" => "The job is live.",
            "pending" => "The job is submitted and waits for review.",
            "deleted" => "The job is deleted.",
            "copied" => {
                "This is a copy of your job, saved as a draft. Change what you need, then save \
                 and submit it."
            }
            "logo" => "The new logo is saved.",
            "revoked" => "The token is revoked: it no longer works.",
            _ => return None,
        })
    }
}

/// A job or token id from the path; anything else is simply not found.
pub fn parse_id(id: &str) -> Result<i64, AppError> {
    id.parse().map_err(|_| AppError::NotFound)
}

/// Renders a dashboard page for this browser (see [`forms::page`]).
pub fn page(
    state: &State,
    req: &Request,
    template: &str,
    status: StatusCode,
    ctx: Value,
) -> poem::Result<Response> {
    Ok(forms::page(state, req, template, status, ctx)?)
}
