//! `/admin/payments`: every payment with its Stripe ids and status, and the
//! money received (all time and the last 30 days, per currency).

use minijinja::{Value, context};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::pages::page;
use crate::accounts::session::AdminUser;
use crate::clock;
use crate::payments::{self, PaymentStatus, store};
use crate::web::State;

/// Payments listed at once.
const SHOWN: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct PaymentsQuery {
    status: Option<String>,
}

fn totals(rows: Vec<(String, i64, i64)>) -> Vec<Value> {
    rows.into_iter()
        .map(|(currency, count, cents)| {
            context! {
                currency => currency.to_ascii_uppercase(),
                count,
                amount => payments::amount_text(cents, &currency),
            }
        })
        .collect()
}

#[handler]
pub async fn list(
    req: &Request,
    Data(state): Data<&State>,
    Query(q): Query<PaymentsQuery>,
    AdminUser(admin): AdminUser,
) -> poem::Result<Response> {
    let status = q.status.as_deref().and_then(PaymentStatus::parse);
    let now = state.now();
    let (all_time, month, rows) = state
        .db
        .read(move |c| {
            let mut rows = Vec::new();
            for p in store::recent(c, status, SHOWN)? {
                let email = crate::accounts::store::by_id(c, p.user_id)?.email;
                let title = crate::jobs::store::title_of(c, p.job_id)?;
                rows.push(context! {
                    number => p.id,
                    created => clock::human_date(p.created_at),
                    paid => p.paid_at.map(clock::human_date),
                    email,
                    job_id => p.job_id,
                    title,
                    description => p.description(),
                    amount => payments::amount_text(p.amount_cents, &p.currency),
                    status => p.status.as_str(),
                    session_id => p.session_id,
                    payment_intent_id => p.payment_intent_id,
                    error => p.error,
                });
            }
            Ok((
                store::totals(c, 0)?,
                store::totals(c, now - 30 * 86_400)?,
                rows,
            ))
        })
        .await?;
    let statuses = ["paid", "open", "creating", "expired", "failed"];
    Ok(page(
        state,
        req,
        "admin/payments.html",
        StatusCode::OK,
        &admin,
        context! {
            section => "payments",
            all_time => totals(all_time),
            month => totals(month),
            payments => rows,
            status => status.map(|s| s.as_str()),
            statuses,
            shown => SHOWN,
            stripe => state.stripe.is_some(),
        },
    )?)
}
