//! Errors. Which type to use where:
//!
//! - Domain and storage code returns [`AppError`]. `?` on a `rusqlite::Error`
//!   turns "no rows" into [`AppError::NotFound`] and anything else into a 500.
//! - Page handlers return `poem::Result<_>` and use `?` on `AppError`: the
//!   error-page middleware in `web::middleware` renders it as an HTML page.
//! - API handlers return `Result<_, web::api::ApiError>`, which documents each status
//!   in the OpenAPI document and answers `{"error": {"code", "message", "fields"}}`.
//! - Commands (`main.rs`) print an error's `Display` on one line and exit non-zero.
//!
//! 5xx errors are logged with their cause and a request id; users see only a
//! plain message and that id.

use std::collections::BTreeMap;

use poem::http::StatusCode;

/// Field name → message, for forms and the API's `fields`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// No session or API token where one is needed.
    #[error("sign in first")]
    Unauthorized,
    /// Known, but not allowed: a bad CSRF token, a disabled account, a
    /// page for admins.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many requests; try again in {retry_after} s")]
    TooManyRequests { retry_after: u64 },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the input has errors: {}", summarise(.0))]
    Invalid(FieldErrors),
    #[error("{0}")]
    Unavailable(String),
    /// SQLite could not grow its files (`SQLITE_FULL`): nothing was saved.
    /// Reads go on; writes work again once space is freed.
    #[error("the disk is full: {0}")]
    DiskFull(rusqlite::Error),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("database error: {0}")]
    Db(rusqlite::Error),
}

fn summarise(fields: &FieldErrors) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    /// A validation error on one field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.insert(name.to_string(), message.into());
        AppError::Invalid(f)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) | AppError::DiskFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) | AppError::Db(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::TooLarge(_) => "too_large",
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid(_) => "invalid_input",
            AppError::Unavailable(_) => "unavailable",
            AppError::DiskFull(_) => "disk_full",
            AppError::Internal(_) | AppError::Db(_) => "internal",
        }
    }

    /// What a user may be told: never the cause of a 5xx.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "Nothing was found at this address.".into(),
            AppError::Unauthorized => {
                "Sign in first (or send an API token as `Authorization: Bearer …`).".into()
            }
            AppError::TooManyRequests { retry_after } => format!(
                "Too many attempts. Please wait {} and try again.",
                human_wait(*retry_after)
            ),
            AppError::Internal(_) | AppError::Db(_) => {
                "Something went wrong on our side. Please try again.".into()
            }
            AppError::Unavailable(_) => {
                "The service is busy or starting; please try again shortly.".into()
            }
            AppError::DiskFull(_) => {
                "The server's disk is full; nothing was saved. Please try again later.".into()
            }
            other => other.to_string(),
        }
    }

    /// Seconds to wait before trying again, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Invalid(f) => Some(f),
            _ => None,
        }
    }
}

/// "a minute", "5 minutes", "40 seconds".
fn human_wait(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".into(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => AppError::NotFound,
            rusqlite::Error::SqliteFailure(ref f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
                AppError::DiskFull(e)
            }
            other => AppError::Db(other),
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(format!("json: {e}"))
    }
}

impl poem::error::ResponseError for AppError {
    fn status(&self) -> StatusCode {
        AppError::status(self)
    }
}
