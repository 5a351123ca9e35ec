//! The admin area: site stats, the moderation queue, every job with its
//! actions, users (disable and enable), the audit log, and the
//! `jobboard admin create` command.
//!
//! Every page needs the admin role ([`AdminUser`](crate::accounts::session::AdminUser)):
//! visitors are sent to sign in, other users get 403. Every action is a
//! CSRF-checked POST and writes an audit-log entry in its own transaction.

pub mod actions;
pub mod cli;
pub mod pages;
pub mod payments;
pub mod store;

use poem::{Route, get, post};

/// Routes under `/admin`, with their full paths (nested without stripping).
pub fn routes() -> Route {
    Route::new()
        .at("/admin", get(pages::index))
        .at("/admin/jobs", get(pages::jobs))
        .at("/admin/jobs/:id", get(pages::show))
        .at("/admin/jobs/:id/edit", get(pages::edit).post(actions::edit))
        .at("/admin/jobs/:id/:action", post(actions::job_action))
        .at("/admin/users", get(pages::users))
        .at("/admin/payments", get(payments::list))
        .at("/admin/users/:id/:action", post(actions::user_action))
        .at("/admin/tasks/:id/retry", post(actions::retry_task))
}
