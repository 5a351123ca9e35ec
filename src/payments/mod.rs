//! Paid posting through Stripe Checkout (SPEC §7).
//!
//! Buying something (a post, a featured upgrade, a renewal) writes a
//! `payments` row first, then asks Stripe for a Checkout Session tied to that
//! row (`client_reference_id`, metadata) and sends the employer there. Three
//! roads lead back, in any order and any number of times: the signed webhook
//! (stored, then settled by a task), the success redirect (a session lookup),
//! and reconciliation (a lookup of every session still open after a few
//! minutes). All of them end in [`settle::settle`], which turns the row `paid`
//! at most once, in the same transaction that activates the job and queues
//! the receipt; so a job is never activated twice and never published unpaid.

pub mod checkout;
pub mod reconcile;
pub mod settle;
pub mod store;
pub mod stripe;
pub mod webhook;

use serde::Serialize;

use crate::config::Config;
use crate::jobs::model::{Job, Status};

/// What a payment buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Publishing a draft (with the featured upgrade when `featured`).
    Post,
    /// Featuring a live job.
    Featured,
    /// Another `posting.duration_days` for a job expired or about to.
    Renewal,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Post => "post",
            Purpose::Featured => "featured",
            Purpose::Renewal => "renewal",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        [Purpose::Post, Purpose::Featured, Purpose::Renewal]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A purchase being started: what, and with the upgrade or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchase {
    pub purpose: Purpose,
    /// A post bought with the featured upgrade (always true for `Featured`).
    pub featured: bool,
}

/// One line of what a purchase costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub name: String,
    pub cents: u64,
}

impl Purchase {
    /// Its lines at the configured prices; empty when nothing is to be paid.
    pub fn lines(&self, config: &Config) -> Vec<Line> {
        let p = &config.posting;
        let days = p.duration_days;
        let mut lines = Vec::new();
        match self.purpose {
            Purpose::Post => lines.push(Line {
                name: format!("Job post, {days} days"),
                cents: p.price_cents,
            }),
            Purpose::Renewal => lines.push(Line {
                name: format!("Job renewal, {days} days"),
                cents: p.price_cents,
            }),
            Purpose::Featured => {}
        }
        if self.featured || self.purpose == Purpose::Featured {
            lines.push(Line {
                name: "Featured upgrade".into(),
                cents: p.featured_price_cents,
            });
        }
        lines.retain(|l| l.cents > 0);
        lines
    }

    /// The total in cents.
    pub fn total(&self, config: &Config) -> u64 {
        self.lines(config).iter().map(|l| l.cents).sum()
    }
}

/// Whether the featured upgrade is for sale.
pub fn featured_offered(config: &Config) -> bool {
    config.stripe_enabled() && config.posting.featured_price_cents > 0
}

/// Whether posting or renewing costs money.
pub fn posting_paid(config: &Config) -> bool {
    config.stripe_enabled() && config.posting.price_cents > 0
}

/// Whether a job's owner may buy the featured upgrade for it now.
pub fn can_upgrade(job: &Job, config: &Config) -> bool {
    featured_offered(config) && job.status == Status::Published && !job.featured
}

/// The state of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// The row exists; Stripe has not (yet) answered with a session.
    Creating,
    /// A Checkout Session waits for the customer.
    Open,
    Paid,
    /// The session expired or was ended unpaid.
    Expired,
    /// Stripe refused to start it, or the payment failed.
    Failed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Creating => "creating",
            PaymentStatus::Open => "open",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Creating,
            PaymentStatus::Open,
            PaymentStatus::Paid,
            PaymentStatus::Expired,
            PaymentStatus::Failed,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Still waiting for an answer from Stripe or the customer.
    pub fn unsettled(self) -> bool {
        matches!(self, PaymentStatus::Creating | PaymentStatus::Open)
    }
}

/// A row of `payments`.
#[derive(Debug, Clone, Serialize)]
pub struct Payment {
    pub id: i64,
    pub job_id: i64,
    pub user_id: i64,
    pub purpose: Purpose,
    pub featured: bool,
    pub amount_cents: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub session_id: Option<String>,
    pub checkout_url: Option<String>,
    pub session_expires_at: Option<i64>,
    pub payment_intent_id: Option<String>,
    pub customer_id: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub paid_at: Option<i64>,
}

impl Payment {
    /// What was bought, for people: "Job post + featured upgrade".
    pub fn description(&self) -> &'static str {
        match (self.purpose, self.featured) {
            (Purpose::Post, true) => "Job post with featured upgrade",
            (Purpose::Post, false) => "Job post",
            (Purpose::Featured, _) => "Featured upgrade",
            (Purpose::Renewal, _) => "Job renewal",
        }
    }
}

/// An amount for people, as `posting::price_text` writes prices.
pub fn amount_text(cents: i64, currency: &str) -> String {
    crate::posting::price_text(cents.max(0) as u64, currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(price: u64, featured: u64) -> Config {
        let mut c = Config::for_data_dir(std::path::Path::new("/tmp"));
        c.posting.price_cents = price;
        c.posting.featured_price_cents = featured;
        c
    }

    #[test]
    fn purchases_cost_what_the_config_says() {
        let c = config(4900, 2000);
        let post = Purchase {
            purpose: Purpose::Post,
            featured: false,
        };
        assert_eq!(post.total(&c), 4900);
        let both = Purchase {
            featured: true,
            ..post
        };
        assert_eq!(both.total(&c), 6900);
        assert_eq!(both.lines(&c).len(), 2);
        let upgrade = Purchase {
            purpose: Purpose::Featured,
            featured: true,
        };
        assert_eq!(upgrade.total(&c), 2000);
        let renewal = Purchase {
            purpose: Purpose::Renewal,
            featured: false,
        };
        assert_eq!(renewal.total(&c), 4900);
        // Free posting with a paid upgrade: only the upgrade is a line.
        let c = config(0, 2000);
        assert_eq!(both.lines(&c).len(), 1);
        assert_eq!(post.total(&c), 0);
    }
}
