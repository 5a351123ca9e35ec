//! `/dashboard/company`: the employer's company profile (name, website, a
//! description in Markdown shown on the company's page) and its logo
//! (`POST /dashboard/company/logo`, a multipart upload).

use minijinja::{Value, context};
use poem::http::{StatusCode, header};
use poem::web::{Data, Multipart, Query};
use poem::{Request, Response, handler};
use tokio::io::AsyncReadExt;

use super::{Done, logo};
use crate::accounts::User;
use crate::accounts::session::CurrentUser;
use crate::accounts::store as accounts;
use crate::companies::store::{self as companies, Company};
use crate::error::{AppError, FieldErrors};
use crate::jobs::input::CompanyInput;
use crate::web::forms::{self, CSRF_FIELD, Form, HONEYPOT_FIELD};
use crate::web::{self, State};

/// The longest company description accepted.
const MAX_DESCRIPTION: usize = 10_000;
/// Room for the upload form's other fields and part headers.
pub const MULTIPART_OVERHEAD: usize = 16 * 1024;
/// The most parts an upload form may have.
const MAX_PARTS: usize = 8;

/// A validated profile.
struct Profile {
    name: String,
    website: Option<String>,
    description: Option<String>,
}

/// The user's company, if they have one yet.
async fn company_of(state: &State, user: &User) -> Result<Option<Company>, AppError> {
    let Some(id) = user.company_id else {
        return Ok(None);
    };
    Ok(Some(state.db.read(move |c| companies::by_id(c, id)).await?))
}

/// The profile page: the form with `values`, the current logo, and errors
/// beside their fields (`logo` for the upload).
fn profile_view(
    state: &State,
    req: &Request,
    status: StatusCode,
    company: Option<&Company>,
    values: Value,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> poem::Result<Response> {
    let shown =
        company.map(|c| crate::jobs::view::company_view(&c.name, &c.slug, &c.website, &c.logo_url));
    super::page(
        state,
        req,
        "dashboard/company.html",
        status,
        context! {
            company => shown,
            values,
            errors => forms::errors(errors),
            notice,
            max_logo_mb => logo::MAX_BYTES / (1024 * 1024),
            logo_size => logo::SIZE,
        },
    )
}

fn values_of(company: Option<&Company>) -> Value {
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    forms::values([
        ("company_name", text(company.map(|c| &c.name))),
        (
            "company_website",
            text(company.and_then(|c| c.website.as_ref())),
        ),
        (
            "company_description",
            text(company.and_then(|c| c.description.as_ref())),
        ),
    ])
}

#[handler]
pub async fn profile_page(
    req: &Request,
    Data(state): Data<&State>,
    Query(done): Query<Done>,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let company = company_of(state, &user).await?;
    let values = values_of(company.as_ref());
    let (ok, errors) = (StatusCode::OK, FieldErrors::new());
    profile_view(
        state,
        req,
        ok,
        company.as_ref(),
        values,
        &errors,
        done.notice(),
    )
}

/// A field by its form name (`company_name`, as in SPEC §4) or its plain
/// name (`name`).
fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.get(&format!("company_{name}"))
        .or_else(|| form.get(name))
}

/// Whether a website is an http(s) address with a host and no spaces or
/// control characters.
fn valid_website(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Text without the characters XML cannot carry (C0 controls but tab, line
/// feed and carriage return; U+FFFE, U+FFFF), as the job input keeps a
/// company's name: it reaches feeds, emails and the API from here too.
fn without_controls(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            !((c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}'))
        })
        .collect::<String>()
        .trim()
        .to_string()
}

fn validate(form: &Form) -> Result<Profile, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = without_controls(field(form, "name").unwrap_or(""));
    if name.is_empty() {
        errors.insert("company_name".into(), "is required".into());
    } else if name.chars().count() > 120 {
        errors.insert(
            "company_name".into(),
            "must be at most 120 characters".into(),
        );
    }
    let website = field(form, "website");
    if let Some(w) = website
        && (w.len() > 500 || !valid_website(w))
    {
        errors.insert(
            "company_website".into(),
            "must be an http:// or https:// address".into(),
        );
    }
    let description = field(form, "description")
        .map(|d| without_controls(&d.replace("\r\n", "\n")))
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        errors.insert(
            "company_description".into(),
            format!("must be at most {MAX_DESCRIPTION} characters"),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Profile {
        name,
        website: website.map(String::from),
        description,
    })
}

/// `POST /dashboard/company`: saves the profile; the first save creates the
/// company (a slug of its own) and links it to the user.
#[handler]
pub async fn save_profile(
    req: &Request,
    Data(state): Data<&State>,
    form: Form,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let profile = match validate(&form) {
        Ok(p) => p,
        Err(errors) => {
            let company = company_of(state, &user).await?;
            let values = forms::values([
                ("company_name", field(&form, "name").unwrap_or("")),
                ("company_website", field(&form, "website").unwrap_or("")),
                (
                    "company_description",
                    field(&form, "description").unwrap_or(""),
                ),
            ]);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return profile_view(state, req, status, company.as_ref(), values, &errors, None);
        }
    };
    let now = state.now();
    state
        .db
        .write(move |tx| {
            // Read again inside the write: two first saves make one company.
            let id = match accounts::by_id(tx, user.id)?.company_id {
                Some(id) => id,
                None => {
                    let input = CompanyInput {
                        name: profile.name.clone(),
                        website: profile.website.clone(),
                        logo_url: None,
                    };
                    let id = companies::create_unique(tx, &input, now)?;
                    accounts::set_company(tx, user.id, id, now)?;
                    id
                }
            };
            companies::update_profile(
                tx,
                id,
                &profile.name,
                profile.website.as_deref(),
                profile.description.as_deref(),
                now,
            )
        })
        .await?;
    Ok(web::see_other("/dashboard/company?done=saved"))
}

/// Reads a part whole, refusing it past `max` bytes.
async fn read_part(field: poem::web::Field, max: usize) -> Result<Vec<u8>, AppError> {
    let mut buf = Vec::new();
    field
        .into_async_read()
        .take(max as u64 + 1)
        .read_to_end(&mut buf)
        .await
        .map_err(|_| AppError::BadRequest("The upload could not be read.".into()))?;
    if buf.len() > max {
        return Err(AppError::TooLarge(format!(
            "The file is too large: at most {} MB.",
            logo::MAX_BYTES / (1024 * 1024)
        )));
    }
    Ok(buf)
}

/// The logo file of an upload form, once its CSRF token (which the form sends
/// first) was checked; nothing of the file is read before that.
async fn logo_upload(req: &Request, multipart: &mut Multipart) -> Result<Vec<u8>, AppError> {
    let too_large = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > logo::MAX_BYTES + MULTIPART_OVERHEAD);
    if too_large {
        return Err(AppError::TooLarge(format!(
            "The file is too large: at most {} MB.",
            logo::MAX_BYTES / (1024 * 1024)
        )));
    }
    let unreadable = |_| AppError::BadRequest("The upload could not be read.".into());
    let mut checked = false;
    let mut file = None;
    for _ in 0..MAX_PARTS {
        let Some(part) = multipart.next_field().await.map_err(unreadable)? else {
            break;
        };
        match part.name().unwrap_or("") {
            CSRF_FIELD => {
                let token = String::from_utf8(read_part(part, 256).await?).unwrap_or_default();
                forms::verify(req, Some(token.trim()))?;
                checked = true;
            }
            "logo" if checked => file = Some(read_part(part, logo::MAX_BYTES).await?),
            "logo" => forms::verify(req, None)?,
            HONEYPOT_FIELD => {
                if !read_part(part, 256)
                    .await?
                    .iter()
                    .all(u8::is_ascii_whitespace)
                {
                    return Err(AppError::BadRequest(
                        "This form could not be accepted.".into(),
                    ));
                }
            }
            _ => {
                read_part(part, 1024).await?;
            }
        }
    }
    if !checked {
        forms::verify(req, None)?;
    }
    Ok(file.unwrap_or_default())
}

/// `POST /dashboard/company/logo`: a PNG, JPEG or WebP up to 1 MB, stored
/// re-encoded; the old file is removed. A refused file answers 422 with the
/// message beside the field, and changes nothing.
#[handler]
pub async fn upload_logo(
    req: &Request,
    Data(state): Data<&State>,
    mut multipart: Multipart,
    CurrentUser(user): CurrentUser,
) -> poem::Result<Response> {
    let bytes = logo_upload(req, &mut multipart).await?;
    let company = company_of(state, &user).await?;
    let refuse = |message: &str| {
        let errors = FieldErrors::from([("logo".to_string(), message.to_string())]);
        let values = values_of(company.as_ref());
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        profile_view(state, req, status, company.as_ref(), values, &errors, None)
    };
    let Some(company_id) = company.as_ref().map(|c| c.id) else {
        return refuse("Save your company's name first, then add its logo.");
    };
    if bytes.is_empty() {
        return refuse("Choose an image file.");
    }
    let png = match logo::reencode_blocking(bytes).await? {
        Ok(png) => png,
        Err(message) => return refuse(&format!("The file {message}.")),
    };
    let data_dir = &state.config.data_dir;
    let url = logo::store(data_dir, company_id, png).await?;
    let now = state.now();
    let new = url.clone();
    let old = state
        .db
        .write(move |tx| {
            let old = companies::by_id(tx, company_id)?.logo_url;
            companies::set_logo(tx, company_id, Some(&new), now)?;
            Ok(old)
        })
        .await?;
    if let Some(old) = old.filter(|old| *old != url) {
        logo::remove(data_dir, company_id, &old).await;
    }
    Ok(web::see_other("/dashboard/company?done=logo"))
}
