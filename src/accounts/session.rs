//! Who is asking: the session cookie and the extractors handlers take.
//!
//! [`CurrentUser`] sends a visitor to `/login?next=…`; [`AdminUser`] also
//! answers 403 to a signed-in non-admin; [`MaybeUser`] is for pages that work
//! either way. Signing in always starts a new session with a new token, so a
//! token planted before sign-in (session fixation) is worth nothing after it.

use poem::{FromRequest, Request, RequestBody};

use super::{User, store};
use crate::error::AppError;
use crate::web::{State, forms};

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "jb_session";

fn state_of(req: &Request) -> Result<&State, AppError> {
    req.data::<State>()
        .ok_or_else(|| AppError::internal("no state on the request"))
}

/// The signed-in user, if any.
async fn lookup(req: &Request) -> Result<Option<User>, AppError> {
    let state = state_of(req)?;
    let Some(token) = req
        .cookie()
        .get(SESSION_COOKIE)
        .map(|c| c.value_str().to_string())
    else {
        return Ok(None);
    };
    let now = state.now();
    state
        .db
        .read(move |c| store::session_user(c, &token, now))
        .await
}

/// The signed-in user or nobody.
pub struct MaybeUser(pub Option<User>);

impl<'a> FromRequest<'a> for MaybeUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(MaybeUser(lookup(req).await?))
    }
}

/// A signed-in user; visitors are sent to sign in and come back.
pub struct CurrentUser(pub User);

impl<'a> FromRequest<'a> for CurrentUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        match lookup(req).await? {
            Some(user) => Ok(CurrentUser(user)),
            None => Err(to_login(req)),
        }
    }
}

/// A signed-in admin; others get 403.
pub struct AdminUser(pub User);

impl<'a> FromRequest<'a> for AdminUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        match lookup(req).await? {
            Some(user) if user.is_admin() => Ok(AdminUser(user)),
            Some(_) => Err(AppError::Forbidden("This page is for admins.".into()).into()),
            None => Err(to_login(req)),
        }
    }
}

/// A redirect to the sign-in page that comes back here (after a GET) or to
/// the dashboard (after a POST, which cannot be replayed).
fn to_login(req: &Request) -> poem::Error {
    let back = if req.method() == poem::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    } else {
        "/dashboard".into()
    };
    let location = format!("/login?next={}", url_encode(&super::safe_next(Some(&back))));
    poem::Error::from_response(crate::web::see_other(&location))
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// Signs a user in: ends the session this browser had, starts a new one and
/// sets its cookie.
pub async fn sign_in(state: &State, req: &Request, user_id: i64) -> Result<(), AppError> {
    let old = req
        .cookie()
        .get(SESSION_COOKIE)
        .map(|c| c.value_str().to_string());
    let now = state.now();
    let token = state
        .db
        .write(move |tx| {
            if let Some(old) = old {
                store::end_session(tx, &old)?;
            }
            store::create_session(tx, user_id, now)
        })
        .await?;
    let mut cookie = forms::cookie(state, SESSION_COOKIE, token);
    cookie.set_max_age(std::time::Duration::from_secs(
        store::SESSION_SECONDS as u64,
    ));
    req.cookie().add(cookie);
    Ok(())
}

/// Signs out: ends this browser's session and removes its cookie.
pub async fn sign_out(state: &State, req: &Request) -> Result<(), AppError> {
    if let Some(token) = req
        .cookie()
        .get(SESSION_COOKIE)
        .map(|c| c.value_str().to_string())
    {
        state
            .db
            .write(move |tx| store::end_session(tx, &token))
            .await?;
    }
    let mut cookie = forms::cookie(state, SESSION_COOKIE, String::new());
    cookie.make_removal();
    req.cookie().add(cookie);
    Ok(())
}
