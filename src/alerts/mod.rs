//! Job alerts (`/alerts`): a saved search mailed to an address, instantly or
//! as a daily or weekly digest. Double opt-in; every email has a one-click
//! unsubscribe (RFC 8058) and a link to manage the address's alerts without an
//! account. Links carry signed tokens ([`token`]); the `alerts` schedule runs
//! [`send::send_due`].

pub mod pages;
pub mod search;
pub mod send;
pub mod store;
pub mod token;

use poem::{Route, get};

/// The alert routes, with their full paths (nested without stripping).
pub fn routes() -> Route {
    Route::new()
        .at("/alerts", get(pages::new_page).post(pages::subscribe))
        .at("/alerts/sent", get(pages::sent))
        .at("/alerts/confirm/:token", get(pages::confirm))
        .at(
            "/alerts/unsubscribe/:token",
            get(pages::unsubscribe_ask).post(pages::unsubscribe),
        )
        .at(
            "/alerts/manage/:token",
            get(pages::manage).post(pages::change),
        )
}
