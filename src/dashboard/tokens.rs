//! `/dashboard/tokens`: the employer's API tokens. A new token is shown once,
//! on the page answering its creation (never stored, never cached); the list
//! shows only each token's prefix. Revoking one makes it stop working at once.

use minijinja::context;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};

use super::{Done, parse_id};
use crate::accounts::session::CurrentUser;
use crate::accounts::store as accounts;
use crate::clock;
use crate::error::FieldErrors;
use crate::web::forms::{self, Form};
use crate::web::{self, State};

/// How many working tokens one user may hold.
const MAX_ACTIVE: usize = 20;

/// What the tokens page shows besides the list.
#[derive(Default)]
struct Shown<'a> {
    /// A token just made: its name and the token itself.
    new_token: Option<(String, String)>,
    /// The name typed into a refused form.
    name: &'a str,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

/// The tokens page: the list, the form, and the new token when one was just
/// made.
async fn tokens_page(
    state: &State,
    req: &Request,
    user_id: i64,
    status: StatusCode,
    shown: Shown<'_>,
) -> poem::Result<Response> {
    let tokens = state
        .db
        .read(move |c| accounts::api_tokens(c, user_id))
        .await?;
    let rows: Vec<_> = tokens
        .iter()
        .map(|t| {
            context! {
                id => t.id,
                name => &t.name,
                prefix => &t.prefix,
                created => clock::human_date(t.created_at),
                last_used => t.last_used_at.map(clock::human_date),
                revoked => t.revoked,
            }
        })
        .collect();
    let new_token = shown
        .new_token
        .map(|(name, token)| context! { name, token });
    super::page(
        state,
        req,
        "dashboard/tokens.html",
        status,
        context! {
            tokens => rows,
            new_token,
            values => forms::values([("name", shown.name)]),
            errors => forms::errors(&shown.errors),
            notice => shown.notice,
            api_base => state.url("/api/v1"),
        },
    )
}

#[handler]
pub async fn list_page(
    req: &Request,
    Data(state): Data<&State>,
    Query(done): Query<Done>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let shown = Shown {
        notice: done.notice(),
        ..Shown::default()
    };
    tokens_page(state, req, user.id, StatusCode::OK, shown).await
}

/// `POST /dashboard/tokens`: makes a token and shows it, this once (200, not
/// a redirect, so it is never in a URL or history entry worth replaying).
#[handler]
pub async fn create(
    req: &Request,
    Data(state): Data<&State>,
    form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let name = form.get("name").unwrap_or("").to_string();
    let user_id = user.id;
    let mut errors = FieldErrors::new();
    if name.is_empty() {
        errors.insert("name".into(), "is required".into());
    } else if name.chars().count() > 100 {
        errors.insert("name".into(), "must be at most 100 characters".into());
    }
    if errors.is_empty() {
        let now = state.now();
        let token_name = name.clone();
        let made = state
            .db
            .write(move |tx| {
                let active = accounts::api_tokens(tx, user_id)?
                    .iter()
                    .filter(|t| !t.revoked)
                    .count();
                if active >= MAX_ACTIVE {
                    return Ok(None);
                }
                accounts::create_api_token(tx, user_id, &token_name, now).map(Some)
            })
            .await?;
        if let Some((_, token)) = made {
            let shown = Shown {
                new_token: Some((name, token)),
                ..Shown::default()
            };
            return tokens_page(state, req, user_id, StatusCode::OK, shown).await;
        }
        errors.insert(
            "name".into(),
            format!("you have {MAX_ACTIVE} working tokens: revoke one first"),
        );
    }
    let shown = Shown {
        name: &name,
        errors,
        ..Shown::default()
    };
    tokens_page(state, req, user_id, StatusCode::UNPROCESSABLE_ENTITY, shown).await
}

/// `POST /dashboard/tokens/{id}/revoke`; someone else's token is not found.
#[handler]
pub async fn revoke(
    Data(state): Data<&State>,
    Path(id): Path<String>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let (id, now, user_id) = (parse_id(&id)?, state.now(), user.id);
    state
        .db
        .write(move |tx| accounts::revoke_api_token(tx, user_id, id, now))
        .await?;
    Ok(web::see_other("/dashboard/tokens?done=revoked"))
}
