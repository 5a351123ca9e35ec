//! The web layer: shared state, the route table, middleware, rendering helpers.

pub mod api;
pub mod assets;
pub mod body_limit;
pub mod cache;
pub mod forms;
pub mod health;
pub mod healthcheck;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod observe;
pub mod server;
pub mod templates;
pub mod uploads;

use std::sync::Arc;

use bytes::Bytes;
use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Endpoint, EndpointExt, Request, Response, Route, get, handler};
use serde::Serialize;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::jobs::counters::Counters;

/// Everything a request handler may need, shared by all of them.
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: SharedClock,
    pub templates: templates::Templates,
    pub assets: Arc<assets::Assets>,
    pub pages: cache::PageCache,
    pub counters: Counters,
    pub search: Arc<crate::search::Search>,
    /// Searches running at once: more would only make two cores take turns
    /// while each holds its working memory.
    pub searching: tokio::sync::Semaphore,
    /// The board's secret for CSRF tokens.
    pub keys: crate::crypto::SiteKey,
    pub limits: limits::Limiter,
    pub mailer: crate::mail::Mailer,
    /// Wakes this process's background worker when work is queued.
    pub wake: Arc<crate::tasks::Wake>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The Stripe account, when paid posting is configured.
    pub stripe: Option<crate::payments::stripe::Stripe>,
}

/// The state as handlers receive it.
pub type State = Arc<AppState>;

impl AppState {
    /// Builds the state: loads templates and assets.
    pub fn new(config: Config, db: Db, clock: SharedClock) -> Result<State, AppError> {
        let search = crate::search::Search::new(&config.data_dir);
        let assets = Arc::new(assets::Assets::load());
        let site = templates::SiteGlobals {
            name: config.site.name.clone(),
            tagline: config.site.tagline.clone(),
            base_url: config.base_url.clone(),
        };
        let templates = templates::Templates::load(site, Arc::clone(&assets))?;
        let keys = crate::crypto::SiteKey::load_or_create(&config.data_dir)?;
        let limits = limits::Limiter::new(config.limits.enabled);
        let mailer = crate::mail::Mailer::new(&config)?;
        let stripe = crate::payments::stripe::Stripe::from_config(&config)?;
        Ok(Arc::new(AppState {
            config: Arc::new(config),
            db,
            clock,
            templates,
            assets,
            pages: cache::PageCache::new(16 << 20),
            counters: Counters::default(),
            search,
            searching: tokio::sync::Semaphore::new(4),
            keys,
            limits,
            mailer,
            wake: Arc::new(crate::tasks::Wake::default()),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            stripe,
        }))
    }

    /// The Stripe account, or an error for a board without paid posting.
    pub fn stripe(&self) -> Result<&crate::payments::stripe::Stripe, AppError> {
        self.stripe
            .as_ref()
            .ok_or_else(|| AppError::BadRequest("This board does not take payments.".into()))
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.unix()
    }

    /// An absolute URL on this site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url)
    }

    /// Renders a page to bytes.
    pub fn render<S: Serialize>(&self, template: &str, ctx: S) -> Result<Bytes, AppError> {
        Ok(Bytes::from(self.templates.render(template, ctx)?))
    }

    /// Changes whenever public content may have changed: a write in this
    /// process, or a commit of the search index.
    pub fn content_version(&self) -> u64 {
        (self.db.version() << 32) | (self.search.generation() & 0xffff_ffff)
    }

    /// A cached public page for this request, or renders and caches it.
    pub async fn cached_page<F, Fut>(&self, req: &Request, render: F) -> Result<Response, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Bytes, AppError>>,
    {
        let key = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let body = self
            .pages
            .get_or_render(&key, self.content_version(), self.now(), render)
            .await?;
        Ok(html(body))
    }
}

/// A 200 HTML response.
pub fn html(body: Bytes) -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A permanent redirect.
pub fn moved_permanently(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::MOVED_PERMANENTLY)
        .header(header::LOCATION, location)
        .finish()
}

/// The answer to a successful form post: see this page next (303).
pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

/// A page for one person (a form with their token, their dashboard): never
/// stored by a cache; `status` is 200, or 422 for a form with errors.
pub fn private_html(body: Bytes, status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
}

/// A redirect for a link that is followed once (apply clicks).
pub fn found(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

#[handler]
async fn asset(
    req: &Request,
    Data(state): Data<&State>,
    poem::web::Path(name): poem::web::Path<String>,
) -> Response {
    state.assets.respond(&name, req)
}

#[handler]
async fn favicon(req: &Request, Data(state): Data<&State>) -> Response {
    state.assets.favicon(req)
}

/// The whole application: pages, API, assets, wrapped in the middleware.
pub fn app(state: State) -> impl Endpoint {
    use crate::{accounts, admin, alerts, companies, dashboard, feeds, jobs, posting};
    let pages = Route::new()
        .nest_no_strip("/dashboard", dashboard::routes())
        .nest_no_strip("/admin", admin::routes())
        .nest_no_strip("/post", posting::routes())
        .nest_no_strip("/alerts", alerts::routes())
        .at(
            "/register",
            get(accounts::pages::register_page).post(accounts::pages::register),
        )
        .at(
            "/login",
            get(accounts::pages::login_page).post(accounts::pages::login),
        )
        .at("/logout", poem::post(accounts::pages::logout))
        .at(
            "/verify-email",
            get(accounts::pages::verify_email).post(accounts::pages::resend_verification),
        )
        .at(
            "/forgot-password",
            get(accounts::pages::forgot_page).post(accounts::pages::forgot),
        )
        .at(
            "/reset-password",
            get(accounts::pages::reset_page).post(accounts::pages::reset),
        )
        .at("/", get(jobs::listing::home))
        .at("/jobs", get(jobs::listing::list))
        .at("/jobs/:id_slug", get(jobs::pages::show))
        .at("/jobs/:id/apply", get(jobs::pages::apply))
        .at("/companies/:slug", get(companies::pages::show))
        .at("/feed.xml", get(feeds::atom::feed))
        .at("/sitemap.xml", get(feeds::sitemap::sitemap))
        .at("/sitemaps/:file", get(feeds::sitemap::sitemap_part))
        .at("/robots.txt", get(feeds::sitemap::robots))
        .at("/healthz", get(health::healthz))
        .at("/assets/*name", get(asset))
        .at("/uploads/*path", get(uploads::serve))
        .at("/favicon.ico", get(favicon))
        .around(middleware::error_pages)
        .with(poem::middleware::CookieJarManager::new());
    let api = api::routes(&state);
    Route::new()
        .nest("/api", api)
        .at(
            "/stripe/webhook",
            poem::post(crate::payments::webhook::receive),
        )
        .at("/metrics", get(metrics::metrics))
        .nest("/", pages)
        .with(body_limit::BodyLimit::default())
        .with(middleware::SecurityHeaders::new(&state.config))
        .with(observe::Observe::new(state.metrics.clone()))
        .data(state)
}
