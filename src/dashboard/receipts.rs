//! `GET /dashboard/receipts`: what the employer has paid, and payments under
//! way or ended unpaid.

use minijinja::context;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};

use crate::accounts::session::CurrentUser;
use crate::payments::{self, PaymentStatus, store};
use crate::web::State;

#[handler]
pub async fn page(
    req: &Request,
    Data(state): Data<&State>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let user_id = user.id;
    let rows = state
        .db
        .read(move |c| {
            let mut rows = Vec::new();
            for p in store::for_user(c, user_id)? {
                let title = crate::jobs::store::title_of(c, p.job_id)?;
                rows.push(context! {
                    number => p.id,
                    date => crate::clock::human_date(p.paid_at.unwrap_or(p.created_at)),
                    description => p.description(),
                    title,
                    job_id => p.job_id,
                    amount => payments::amount_text(p.amount_cents, &p.currency),
                    status => p.status.as_str(),
                    paid => p.status == PaymentStatus::Paid,
                    reference => p.payment_intent_id.clone(),
                });
            }
            Ok(rows)
        })
        .await?;
    super::page(
        state,
        req,
        "dashboard/receipts.html",
        StatusCode::OK,
        context! { user, payments => rows },
    )
}
