//! Posting a job, `/post`: the job form → (for a new employer, an inline
//! sign-up or sign-in) → a preview exactly as the job will appear → submit →
//! confirmation. The job is kept as a draft from the preview on, so nothing
//! typed is lost between steps; with free posting, submitting publishes it (or
//! queues it for review when `posting.require_approval` holds).

pub mod pages;

use poem::{Route, get, post};

/// Routes under `/post`, with their full paths.
pub fn routes() -> Route {
    Route::new()
        .at("/post", get(pages::new_form).post(pages::create))
        .at("/post/:id/preview", get(pages::preview))
        .at("/post/:id/edit", get(pages::edit_form).post(pages::edit))
        .at("/post/:id/submit", post(pages::submit))
        .at("/post/:id/done", get(pages::done))
}

/// The price of a standard post for people: "Free", "$49.00", "49.00 EUR".
pub fn price_text(cents: u64, currency: &str) -> String {
    if cents == 0 {
        return "Free".into();
    }
    let amount = format!("{}.{:02}", cents / 100, cents % 100);
    match currency.to_ascii_lowercase().as_str() {
        "usd" => format!("${amount}"),
        "eur" => format!("€{amount}"),
        "gbp" => format!("£{amount}"),
        other => format!("{amount} {}", other.to_ascii_uppercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_for_people() {
        assert_eq!(price_text(0, "usd"), "Free");
        assert_eq!(price_text(4900, "usd"), "$49.00");
        assert_eq!(price_text(12345, "EUR"), "€123.45");
        assert_eq!(price_text(5, "chf"), "0.05 CHF");
    }
}
