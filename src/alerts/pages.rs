//! The alert pages: the subscribe form, confirming, unsubscribing (RFC 8058
//! one-click: the signed link is the proof, no CSRF token) and managing every
//! alert of an address from a link, without an account.

use minijinja::context;
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Body, Request, Response, handler};
use serde::Serialize;

use super::search;
use super::store::{self, Alert, Frequency};
use super::token::{self, Purpose};
use crate::error::{AppError, FieldErrors};
use crate::jobs::model::{JobType, Region};
use crate::mail::Email;
use crate::web::forms::{self, Form};
use crate::web::limits::client_ip;
use crate::web::{self, State};

/// The largest body a one-click unsubscribe may carry (RFC 8058 sends
/// `List-Unsubscribe=One-Click`).
const MAX_UNSUBSCRIBE_BYTES: usize = 1024;

/// A choice in a select, radio group or checkbox group.
#[derive(Debug, Serialize)]
struct Opt {
    value: String,
    label: String,
}

/// An alert as the pages show it.
#[derive(Debug, Serialize)]
struct AlertView {
    id: i64,
    summary: String,
    frequency: &'static str,
    frequency_label: &'static str,
    confirmed: bool,
    search_url: String,
    unsubscribe_url: String,
}

fn view(state: &State, a: &Alert) -> AlertView {
    let categories = &state.config.site.categories;
    AlertView {
        id: a.id,
        summary: search::describe(&search::params(&a.query, categories), categories),
        frequency: a.frequency.as_str(),
        frequency_label: a.frequency.label(),
        confirmed: a.confirmed_at.is_some(),
        search_url: if a.query.is_empty() {
            "/jobs".into()
        } else {
            format!("/jobs?{}", a.query)
        },
        unsubscribe_url: format!(
            "/alerts/unsubscribe/{}",
            token::make(&state.keys, Purpose::Unsubscribe, a.id)
        ),
    }
}

fn frequencies() -> Vec<Opt> {
    Frequency::ALL
        .iter()
        .map(|f| Opt {
            value: f.as_str().into(),
            label: f.label().into(),
        })
        .collect()
}

/// Renders the subscribe form with these values, ticked regions and errors.
fn form_page(
    state: &State,
    req: &Request,
    status: StatusCode,
    values: Vec<(&'static str, String)>,
    remote: Vec<String>,
    summary: String,
    errors: &FieldErrors,
) -> Result<Response, AppError> {
    let categories: Vec<Opt> = state
        .config
        .site
        .categories
        .iter()
        .map(|c| Opt {
            value: c.slug.clone(),
            label: c.label.clone(),
        })
        .collect();
    let job_types: Vec<Opt> = JobType::ALL
        .iter()
        .map(|t| Opt {
            value: t.as_str().into(),
            label: t.label().into(),
        })
        .collect();
    let regions: Vec<Opt> = Region::ALL
        .iter()
        .map(|r| Opt {
            value: r.as_str().into(),
            label: r.label().into(),
        })
        .collect();
    forms::page(
        state,
        req,
        "alerts/form.html",
        status,
        context! {
            values => forms::values(values),
            errors => forms::errors(errors),
            remote,
            summary,
            frequencies => frequencies(),
            categories,
            job_types,
            regions,
        },
    )
}

fn search_values(p: &crate::search::query::SearchParams) -> Vec<(&'static str, String)> {
    vec![
        ("q", p.q.clone()),
        ("category", p.category.clone().unwrap_or_default()),
        (
            "job_type",
            p.job_type
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
        ),
        ("tag", p.tags.join(", ")),
        (
            "salary_min",
            p.salary_min.map(|s| s.to_string()).unwrap_or_default(),
        ),
    ]
}

/// Alerts one address may have at once.
const MAX_PER_ADDRESS: usize = 20;
/// Characters of search words an alert may keep.
const MAX_QUERY: usize = 200;
/// Tags an alert may require.
const MAX_TAGS: usize = 10;

/// `GET /alerts`: the form, its search taken from the query string.
#[handler]
pub async fn new_page(req: &Request, Data(state): Data<&State>) -> poem::Result<Response> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let categories = &state.config.site.categories;
    let p = search::normalise(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        categories,
    );
    let mut values = search_values(&p);
    values.push(("email", String::new()));
    values.push(("frequency", Frequency::Daily.as_str().into()));
    let remote = p.remote.iter().map(|r| r.as_str().to_string()).collect();
    let summary = search::describe(&p, categories);
    Ok(form_page(
        state,
        req,
        StatusCode::OK,
        values,
        remote,
        summary,
        &FieldErrors::new(),
    )?)
}

/// `POST /alerts`: a new unconfirmed alert and its confirmation email.
#[handler]
pub async fn subscribe(
    req: &Request,
    Data(state): Data<&State>,
    form: Form,
) -> poem::Result<Response> {
    let now = state.now();
    let rate = state.config.limits.alerts_per_ip;
    state.limits.hit("alerts_ip", &client_ip(req), rate, now)?;
    let email = crate::accounts::store::normalise_email(form.raw("email"));
    if !email.is_empty() {
        state.limits.hit("alerts_email", &email, rate, now)?;
    }
    let categories = &state.config.site.categories;
    let p = search::normalise(
        form.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str())),
        categories,
    );
    let frequency = form.get("frequency").and_then(Frequency::parse);
    let mut errors = FieldErrors::new();
    if email.len() > 254 || !crate::jobs::input::valid_email(&email) {
        errors.insert(
            "email".into(),
            "Enter an email address such as name@example.com.".into(),
        );
    }
    if frequency.is_none() {
        errors.insert(
            "frequency".into(),
            "Choose how often to hear about new jobs.".into(),
        );
    }
    if form.raw("q").chars().count() > MAX_QUERY {
        errors.insert(
            "q".into(),
            format!("Use at most {MAX_QUERY} characters for the words to look for."),
        );
    }
    if form.all("tag").len() + form.raw("tag").matches(',').count() > MAX_TAGS {
        errors.insert("tag".into(), format!("Choose at most {MAX_TAGS} tags."));
    }
    if errors.is_empty() {
        let address = email.clone();
        let active = state
            .db
            .read(move |c| store::of_email(c, &address))
            .await?
            .iter()
            .filter(|a| a.unsubscribed_at.is_none())
            .count();
        if active >= MAX_PER_ADDRESS {
            errors.insert(
                "email".into(),
                format!(
                    "This address has {MAX_PER_ADDRESS} alerts already: stop one from the link \
                     in any alert email first."
                ),
            );
        }
    }
    let (false, Some(frequency)) = (!errors.is_empty(), frequency) else {
        let mut values: Vec<(&'static str, String)> = ["q", "category", "job_type", "tag"]
            .into_iter()
            .map(|k| (k, form.raw(k).to_string()))
            .collect();
        values.push(("salary_min", form.raw("salary_min").to_string()));
        values.push(("email", form.raw("email").to_string()));
        values.push(("frequency", form.raw("frequency").to_string()));
        let remote = form.all("remote").into_iter().map(String::from).collect();
        let summary = search::describe(&p, categories);
        return Ok(form_page(
            state,
            req,
            StatusCode::UNPROCESSABLE_ENTITY,
            values,
            remote,
            summary,
            &errors,
        )?);
    };
    let query = search::stored(&p);
    let summary = search::describe(&p, categories);
    let st = state.clone();
    // The alert and its confirmation mail in one transaction.
    state
        .db
        .write_quiet(move |tx| {
            let id = store::subscribe(tx, &email, &query, frequency, now)?;
            let link = st.url(&format!(
                "/alerts/confirm/{}",
                token::make(&st.keys, Purpose::Confirm, id)
            ));
            let subject = format!("Confirm your job alert on {}", st.config.site.name);
            let mail = Email {
                to: &email,
                subject: &subject,
                template: "alert_confirm",
                context: context! {
                    link,
                    summary,
                    frequency => frequency.label(),
                },
            };
            st.mailer.queue(tx, &st.templates, &mail, now)
        })
        .await?;
    state.wake.notify();
    Ok(web::see_other("/alerts/sent"))
}

/// `GET /alerts/sent`: check your inbox.
#[handler]
pub async fn sent(Data(state): Data<&State>) -> poem::Result<Response> {
    let body = state.render("alerts/sent.html", context! {})?;
    Ok(web::private_html(body, StatusCode::OK))
}

/// The alert a link names, when its token is right.
async fn alert_of(state: &State, purpose: Purpose, token: &str) -> Result<Alert, AppError> {
    let id = token::check(&state.keys, purpose, token).ok_or(AppError::NotFound)?;
    state
        .db
        .read(move |c| store::get(c, id))
        .await?
        .ok_or(AppError::NotFound)
}

fn manage_url(state: &State, id: i64) -> String {
    format!(
        "/alerts/manage/{}",
        token::make(&state.keys, Purpose::Manage, id)
    )
}

/// `GET /alerts/confirm/{token}`: confirms the alert (again changes nothing).
#[handler]
pub async fn confirm(
    Data(state): Data<&State>,
    Path(token): Path<String>,
) -> poem::Result<Response> {
    let alert = alert_of(state, Purpose::Confirm, &token).await?;
    let (id, now) = (alert.id, state.now());
    let confirmed = state
        .db
        .write_quiet(move |tx| store::confirm(tx, id, now))
        .await?;
    let body = state.render(
        "alerts/confirmed.html",
        context! {
            confirmed,
            alert => view(state, &alert),
            manage_url => manage_url(state, id),
        },
    )?;
    Ok(web::private_html(body, StatusCode::OK))
}

/// The unsubscribe page: asking (`done` false), or done.
fn unsubscribe_page(state: &State, alert: &Alert, done: bool) -> Result<Response, AppError> {
    let body = state.render(
        "alerts/unsubscribe.html",
        context! {
            done,
            already => !done && alert.unsubscribed_at.is_some(),
            alert => view(state, alert),
            manage_url => manage_url(state, alert.id),
        },
    )?;
    Ok(web::private_html(body, StatusCode::OK))
}

/// `GET /alerts/unsubscribe/{token}`: asks before unsubscribing (a link
/// scanner following the link changes nothing).
#[handler]
pub async fn unsubscribe_ask(
    Data(state): Data<&State>,
    Path(token): Path<String>,
) -> poem::Result<Response> {
    let alert = alert_of(state, Purpose::Unsubscribe, &token).await?;
    Ok(unsubscribe_page(state, &alert, false)?)
}

/// `POST /alerts/unsubscribe/{token}`: unsubscribes, from the page's button
/// or a mail client's one-click post.
#[handler]
pub async fn unsubscribe(
    Data(state): Data<&State>,
    Path(token): Path<String>,
    body: Body,
) -> poem::Result<Response> {
    body.into_bytes_limit(MAX_UNSUBSCRIBE_BYTES)
        .await
        .map_err(|_| AppError::TooLarge("The request is too large.".into()))?;
    let alert = alert_of(state, Purpose::Unsubscribe, &token).await?;
    let (id, now) = (alert.id, state.now());
    state
        .db
        .write_quiet(move |tx| store::unsubscribe(tx, id, now))
        .await?;
    Ok(unsubscribe_page(state, &alert, true)?)
}

/// Every subscribed alert of the address a manage link names.
async fn alerts_of(state: &State, token: &str) -> Result<(Alert, Vec<Alert>), AppError> {
    let alert = alert_of(state, Purpose::Manage, token).await?;
    let email = alert.email.clone();
    let all = state.db.read(move |c| store::of_email(c, &email)).await?;
    Ok((alert, all))
}

fn manage_page(
    state: &State,
    req: &Request,
    token: &str,
    alerts: &[Alert],
    email: &str,
) -> Result<Response, AppError> {
    let views: Vec<AlertView> = alerts.iter().map(|a| view(state, a)).collect();
    forms::page(
        state,
        req,
        "alerts/manage.html",
        StatusCode::OK,
        context! {
            email,
            alerts => views,
            action => format!("/alerts/manage/{token}"),
            frequencies => frequencies(),
            changed => req.uri().query().is_some_and(|q| q.contains("changed=1")),
        },
    )
}

/// `GET /alerts/manage/{token}`: every alert of the address.
#[handler]
pub async fn manage(
    req: &Request,
    Data(state): Data<&State>,
    Path(token): Path<String>,
) -> poem::Result<Response> {
    let (alert, all) = alerts_of(state, &token).await?;
    Ok(manage_page(state, req, &token, &all, &alert.email)?)
}

/// `POST /alerts/manage/{token}`: changes how often one of the address's
/// alerts mails (`alert`, `frequency`).
#[handler]
pub async fn change(
    Data(state): Data<&State>,
    Path(token): Path<String>,
    form: Form,
) -> poem::Result<Response> {
    let (_, all) = alerts_of(state, &token).await?;
    let target = form
        .get("alert")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|id| all.iter().any(|a| a.id == *id))
        .ok_or(AppError::NotFound)?;
    let frequency = form
        .get("frequency")
        .and_then(Frequency::parse)
        .ok_or_else(|| AppError::BadRequest("Choose instant, daily or weekly.".into()))?;
    state
        .db
        .write_quiet(move |tx| store::set_frequency(tx, target, frequency))
        .await?;
    Ok(web::see_other(&format!("/alerts/manage/{token}?changed=1")))
}
