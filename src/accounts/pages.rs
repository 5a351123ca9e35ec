//! The account pages: register, sign in and out, verify an email, forgot and
//! reset a password.
//!
//! Signing in and asking for a reset answer the same whether or not the
//! account exists, in about the same time (a decoy hash; the reset mail goes out
//! after the answer). Each is rate-limited per IP, and wrong passwords also per
//! account.

use minijinja::context;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::session::{self, CurrentUser};
use super::store::{self, Purpose};
use super::{Role, password, safe_next};
use crate::error::{AppError, FieldErrors};
use crate::jobs::input::valid_email;
use crate::mail::Email;
use crate::web::forms::{self, Form};
use crate::web::limits::client_ip;
use crate::web::{self, State};

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// Sends the verification link for a user's address: the token and the
/// mail carrying it are written in one transaction, so neither exists
/// without the other.
async fn send_verification(state: &State, user_id: i64, email: &str) -> Result<(), AppError> {
    let now = state.now();
    let (st, to) = (state.clone(), email.to_string());
    state
        .db
        .write(move |tx| {
            let token = store::issue_token(tx, user_id, Purpose::VerifyEmail, now)?;
            let link = st.url(&format!("/verify-email?token={token}"));
            let subject = format!("Verify your email for {}", st.config.site.name);
            let email = Email {
                to: &to,
                subject: &subject,
                template: "verify_email",
                context: context! { link },
            };
            st.mailer.queue(tx, &st.templates, &email, now)
        })
        .await?;
    state.wake.notify();
    Ok(())
}

#[handler]
pub async fn register_page(
    req: &Request,
    Data(state): Data<&State>,
    Query(q): Query<NextQuery>,
) -> poem::Result<Response> {
    let next = safe_next(q.next.as_deref());
    Ok(forms::page(
        state,
        req,
        "accounts/register.html",
        StatusCode::OK,
        context! { next, values => forms::values::<String, String>([]), errors => forms::errors(&FieldErrors::new()) },
    )?)
}

/// Checks a new account's email and password; the errors by field.
pub fn check_new_account(email: &str, password: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if !valid_email(email) {
        errors.insert(
            "email".into(),
            "Enter an email address such as name@example.com.".into(),
        );
    }
    if let Some(why) = password::refuse(password, email) {
        errors.insert("password".into(), why);
    }
    errors
}

/// Creates an employer account and signs it in; the new user's id, or the
/// errors by field. Shared by `/register` and the inline sign-up of `/post`.
pub async fn register_user(
    state: &State,
    req: &Request,
    email: &str,
    password_text: &str,
) -> Result<Result<i64, FieldErrors>, AppError> {
    let now = state.now();
    state.limits.hit(
        "register_ip",
        &client_ip(req),
        state.config.limits.register_per_ip,
        now,
    )?;
    state.limits.hit(
        "register_account",
        &store::normalise_email(email),
        state.config.limits.register_per_ip,
        now,
    )?;
    let errors = check_new_account(email, password_text);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let hash = password::hash(password_text.to_string()).await?;
    let address = email.to_string();
    let created = state
        .db
        .write(move |tx| store::create_user(tx, &address, &hash, Role::Employer, false, now))
        .await?;
    let Some(user_id) = created else {
        let mut errors = FieldErrors::new();
        errors.insert(
            "email".into(),
            "An account with this email already exists: sign in, or reset its password.".into(),
        );
        return Ok(Err(errors));
    };
    session::sign_in(state, req, user_id).await?;
    send_verification(state, user_id, &store::normalise_email(email)).await?;
    Ok(Ok(user_id))
}

#[handler]
pub async fn register(
    req: &Request,
    Data(state): Data<&State>,
    form: Form,
) -> poem::Result<Response> {
    let next = safe_next(form.get("next"));
    let email = form.get("email").unwrap_or("").to_string();
    match register_user(state, req, &email, form.raw("password")).await? {
        Ok(_) => Ok(web::see_other(&next)),
        Err(errors) => Ok(forms::page(
            state,
            req,
            "accounts/register.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { next, values => forms::values([("email", email)]), errors => forms::errors(&errors) },
        )?),
    }
}

#[handler]
pub async fn login_page(
    req: &Request,
    Data(state): Data<&State>,
    Query(q): Query<NextQuery>,
) -> poem::Result<Response> {
    let next = safe_next(q.next.as_deref());
    Ok(forms::page(
        state,
        req,
        "accounts/login.html",
        StatusCode::OK,
        context! { notice => (), next, values => forms::values::<String, String>([]), errors => forms::errors(&FieldErrors::new()) },
    )?)
}

/// Checks an email and password, counting failures; the user's id when they
/// match an enabled account, else the form's errors. Shared by `/login` and the
/// inline sign-in of `/post`.
pub async fn authenticate(
    state: &State,
    req: &Request,
    email: &str,
    password_text: &str,
) -> Result<Result<i64, FieldErrors>, AppError> {
    let now = state.now();
    let limits = &state.config.limits;
    let account = store::normalise_email(email);
    state
        .limits
        .hit("login_ip", &client_ip(req), limits.login_per_ip, now)?;
    // Every attempt counts before the (slow) check, and a success clears the
    // count: guesses sent at once cannot all pass while the first is hashed.
    state
        .limits
        .hit("login_account", &account, limits.login_per_account, now)?;
    let lookup = account.clone();
    let found = state.db.read(move |c| store::by_email(c, &lookup)).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let matched = password::verify(hash, password_text.to_string()).await;
    match user {
        Some(user) if matched && !user.disabled => {
            state.limits.clear("login_account", &account);
            Ok(Ok(user.id))
        }
        Some(user) if matched => {
            let _ = user;
            let mut errors = FieldErrors::new();
            errors.insert(
                "_form".into(),
                "This account is disabled. Contact the board's admins.".into(),
            );
            Ok(Err(errors))
        }
        _ => {
            let mut errors = FieldErrors::new();
            errors.insert("_form".into(), "The email or password is not right.".into());
            Ok(Err(errors))
        }
    }
}

#[handler]
pub async fn login(req: &Request, Data(state): Data<&State>, form: Form) -> poem::Result<Response> {
    let next = safe_next(form.get("next"));
    let email = form.get("email").unwrap_or("").to_string();
    match authenticate(state, req, &email, form.raw("password")).await? {
        Ok(user_id) => {
            session::sign_in(state, req, user_id).await?;
            Ok(web::see_other(&next))
        }
        Err(errors) => Ok(forms::page(
            state,
            req,
            "accounts/login.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { notice => (), next, values => forms::values([("email", email)]), errors => forms::errors(&errors) },
        )?),
    }
}

#[handler]
pub async fn logout(
    req: &Request,
    Data(state): Data<&State>,
    _form: Form,
) -> poem::Result<Response> {
    session::sign_out(state, req).await?;
    Ok(web::see_other("/"))
}

/// `GET /verify-email?token=…` uses the emailed token; without one it says
/// where the link is.
#[handler]
pub async fn verify_email(
    req: &Request,
    Data(state): Data<&State>,
    Query(q): Query<TokenQuery>,
) -> poem::Result<Response> {
    let outcome = match q.token {
        None => "waiting",
        Some(token) => {
            let now = state.now();
            let require = state.config.posting.require_verified_email;
            let verified = state
                .db
                .write(move |tx| {
                    let user = store::consume_token(tx, &token, Purpose::VerifyEmail, now)?;
                    if let Some(user) = user {
                        store::mark_verified(tx, user, require, now)?;
                    }
                    Ok(user.is_some())
                })
                .await?;
            if verified { "verified" } else { "invalid" }
        }
    };
    Ok(forms::page(
        state,
        req,
        "accounts/verify_email.html",
        if outcome == "invalid" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        context! { outcome },
    )?)
}

/// `POST /verify-email` sends the signed-in user a new link.
#[handler]
pub async fn resend_verification(
    req: &Request,
    Data(state): Data<&State>,
    _form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let now = state.now();
    state.limits.hit(
        "verify_account",
        &user.id.to_string(),
        state.config.limits.reset_per_ip,
        now,
    )?;
    if !user.email_verified {
        send_verification(state, user.id, &user.email).await?;
    }
    Ok(forms::page(
        state,
        req,
        "accounts/verify_email.html",
        StatusCode::OK,
        context! { outcome => if user.email_verified { "verified" } else { "sent" } },
    )?)
}

#[handler]
pub async fn forgot_page(req: &Request, Data(state): Data<&State>) -> poem::Result<Response> {
    Ok(forms::page(
        state,
        req,
        "accounts/forgot_password.html",
        StatusCode::OK,
        context! { sent => false, values => forms::values::<String, String>([]), errors => forms::errors(&FieldErrors::new()) },
    )?)
}

#[handler]
pub async fn forgot(
    req: &Request,
    Data(state): Data<&State>,
    form: Form,
) -> poem::Result<Response> {
    let now = state.now();
    let email = form.get("email").unwrap_or("").to_string();
    if !valid_email(&email) {
        let mut errors = FieldErrors::new();
        errors.insert(
            "email".into(),
            "Enter an email address such as name@example.com.".into(),
        );
        return Ok(forms::page(
            state,
            req,
            "accounts/forgot_password.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { sent => false, values => forms::values([("email", email)]), errors => forms::errors(&errors) },
        )?);
    }
    let limits = &state.config.limits;
    state
        .limits
        .hit("reset_ip", &client_ip(req), limits.reset_per_ip, now)?;
    let account = store::normalise_email(&email);
    // Per account too, but silently: a refusal here would tell that it exists.
    let allowed = state
        .limits
        .hit("reset_account", &account, limits.reset_per_ip, now)
        .is_ok();
    if allowed {
        // The lookup, token and mail happen after the answer, so known and
        // unknown addresses answer alike and in the same time.
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = send_reset(&state, &account).await {
                tracing::error!(error = %e, "could not send a password reset");
            }
        });
    }
    Ok(forms::page(
        state,
        req,
        "accounts/forgot_password.html",
        StatusCode::OK,
        context! { sent => true, values => forms::values::<String, String>([]), errors => forms::errors(&FieldErrors::new()) },
    )?)
}

async fn send_reset(state: &State, account: &str) -> Result<(), AppError> {
    let now = state.now();
    let (lookup, st) = (account.to_string(), state.clone());
    // The token and its mail in one transaction.
    state
        .db
        .write(move |tx| match store::by_email(tx, &lookup)? {
            Some((user, _)) if !user.disabled => {
                let token = store::issue_token(tx, user.id, Purpose::ResetPassword, now)?;
                let link = st.url(&format!("/reset-password?token={token}"));
                let subject = format!("Reset your {} password", st.config.site.name);
                let email = Email {
                    to: &user.email,
                    subject: &subject,
                    template: "reset_password",
                    context: context! { link },
                };
                st.mailer.queue(tx, &st.templates, &email, now).map(|_| ())
            }
            _ => Ok(()),
        })
        .await?;
    state.wake.notify();
    Ok(())
}

#[handler]
pub async fn reset_page(
    req: &Request,
    Data(state): Data<&State>,
    Query(q): Query<TokenQuery>,
) -> poem::Result<Response> {
    let token = q.token.unwrap_or_default();
    let now = state.now();
    let lookup = token.clone();
    let valid = state
        .db
        .read(move |c| store::peek_token(c, &lookup, Purpose::ResetPassword, now))
        .await?
        .is_some();
    Ok(forms::page(
        state,
        req,
        "accounts/reset_password.html",
        if valid {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        context! { valid, token, errors => forms::errors(&FieldErrors::new()) },
    )?)
}

#[handler]
pub async fn reset(req: &Request, Data(state): Data<&State>, form: Form) -> poem::Result<Response> {
    let now = state.now();
    let token = form.get("token").unwrap_or("").to_string();
    let new_password = form.raw("password").to_string();
    state.limits.hit(
        "reset_ip",
        &client_ip(req),
        state.config.limits.reset_per_ip,
        now,
    )?;
    let lookup = token.clone();
    let owner = state
        .db
        .read(move |c| store::peek_token(c, &lookup, Purpose::ResetPassword, now))
        .await?;
    let Some(owner) = owner else {
        return Ok(forms::page(
            state,
            req,
            "accounts/reset_password.html",
            StatusCode::BAD_REQUEST,
            context! { valid => false, token, errors => forms::errors(&FieldErrors::new()) },
        )?);
    };
    let email = state.db.read(move |c| store::by_id(c, owner)).await?.email;
    if let Some(why) = password::refuse(&new_password, &email) {
        let mut errors = FieldErrors::new();
        errors.insert("password".into(), why);
        return Ok(forms::page(
            state,
            req,
            "accounts/reset_password.html",
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { valid => true, token, errors => forms::errors(&errors) },
        )?);
    }
    let hash = password::hash(new_password).await?;
    let require = state.config.posting.require_verified_email;
    let used = state
        .db
        .write(move |tx| {
            let Some(user) = store::consume_token(tx, &token, Purpose::ResetPassword, now)? else {
                return Ok(None);
            };
            store::set_password(tx, user, &hash, now)?;
            // The link came to their inbox: the address is theirs.
            store::mark_verified(tx, user, require, now)?;
            Ok(Some(user))
        })
        .await?;
    match used {
        Some(user) => {
            session::sign_in(state, req, user).await?;
            Ok(web::see_other("/dashboard"))
        }
        None => Ok(forms::page(
            state,
            req,
            "accounts/reset_password.html",
            StatusCode::BAD_REQUEST,
            context! { valid => false, token => "", errors => forms::errors(&FieldErrors::new()) },
        )?),
    }
}
