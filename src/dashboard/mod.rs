//! The employer's dashboard: their jobs with status and counts, the actions on
//! each, their company profile and logo, and their API tokens.

pub mod pages;

use poem::{Route, get};

/// Routes under `/dashboard`, with their full paths (nested without
/// stripping, so handlers see the path the browser asked for).
pub fn routes() -> Route {
    Route::new().at("/dashboard", get(pages::index))
}
