//! HTML forms: the CSRF token a page puts in its form, and [`Form`], the only
//! way a handler reads a posted form, so none can forget the CSRF check.
//!
//! The check is a signed double submit: a random nonce in the `jb_csrf` cookie
//! (HttpOnly, SameSite=Lax), and in the form its HMAC under the board's own key
//! (`data_dir/secret.key`). A forged cross-site post has neither; a token
//! copied from another browser does not match this browser's nonce.

use poem::http::header;
use poem::web::cookie::{Cookie, SameSite};
use poem::{FromRequest, Request, RequestBody};

use super::State;
use crate::crypto;
use crate::error::AppError;

/// The cookie holding this browser's CSRF nonce.
pub const CSRF_COOKIE: &str = "jb_csrf";
/// The hidden field every state-changing form carries.
pub const CSRF_FIELD: &str = "csrf_token";
/// A field people never see and bots fill in; non-empty refuses the post.
pub const HONEYPOT_FIELD: &str = "fax";
/// The largest urlencoded form accepted (a job description fits many times).
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// A cookie for this board: HttpOnly, SameSite=Lax, path `/`, and Secure
/// when the board is served over https.
pub fn cookie(state: &State, name: &str, value: String) -> Cookie {
    let mut c = Cookie::new_with_str(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(state.config.base_url.starts_with("https://"));
    c
}

fn state_of(req: &Request) -> Result<&State, AppError> {
    req.data::<State>()
        .ok_or_else(|| AppError::internal("no state on the request"))
}

/// The token for this browser's forms; sets the nonce cookie when the browser
/// has none yet.
pub fn token_for(req: &Request) -> Result<String, AppError> {
    let state = state_of(req)?;
    let nonce = match req.cookie().get(CSRF_COOKIE) {
        Some(c) if valid_nonce(c.value_str()) => c.value_str().to_string(),
        _ => {
            let nonce = crypto::new_token()?;
            req.cookie().add(cookie(state, CSRF_COOKIE, nonce.clone()));
            nonce
        }
    };
    Ok(sign(state, &nonce))
}

fn valid_nonce(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn sign(state: &State, nonce: &str) -> String {
    crypto::hex(&state.keys.sign(format!("csrf:{nonce}").as_bytes()))
}

/// Checks a submitted token against this browser's nonce (for forms read
/// some other way, such as the multipart logo upload).
pub fn verify(req: &Request, submitted: Option<&str>) -> Result<(), AppError> {
    let state = state_of(req)?;
    let refused = || {
        AppError::Forbidden(
            "This form has expired or did not come from this site. Go back, reload the page \
             and try again."
                .into(),
        )
    };
    let nonce = req.cookie().get(CSRF_COOKIE).ok_or_else(refused)?;
    let submitted = submitted.ok_or_else(refused)?;
    let expected = sign(state, nonce.value_str());
    if crypto::constant_time_eq(expected.as_bytes(), submitted.as_bytes()) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// Renders a page for one browser: its CSRF token (as `csrf`) added to the
/// context, never cached; `status` is 200, or 422 for a refused form.
pub fn page(
    state: &State,
    req: &Request,
    template: &str,
    status: poem::http::StatusCode,
    ctx: minijinja::Value,
) -> Result<poem::Response, AppError> {
    let csrf = token_for(req)?;
    let body = state.render(template, minijinja::context! { csrf, ..ctx })?;
    Ok(super::private_html(body, status))
}

/// A posted urlencoded form whose CSRF token and honeypot were checked.
#[derive(Debug, Default, Clone)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// A form made of these pairs (tests and re-rendering).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form { pairs }
    }

    /// Reads an `application/x-www-form-urlencoded` body (checks nothing else).
    pub fn decode(body: &[u8]) -> Result<Form, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        Ok(Form { pairs })
    }

    /// The first value of a field, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of a field as typed, or "".
    pub fn raw(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every non-blank value of a repeatable field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v != "0" && v != "false")
    }

    /// Every pair, for echoing a form back.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

impl<'a> FromRequest<'a> for Form {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let urlencoded = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !urlencoded {
            return Err(AppError::BadRequest("Expected a form post.".into()).into());
        }
        let bytes = body
            .take()?
            .into_bytes_limit(MAX_FORM_BYTES)
            .await
            .map_err(|_| AppError::TooLarge("The form is too large.".into()))?;
        let form = Form::decode(&bytes)?;
        verify(req, form.get(CSRF_FIELD))?;
        if form.get(HONEYPOT_FIELD).is_some() {
            return Err(AppError::BadRequest("This form could not be accepted.".into()).into());
        }
        Ok(form)
    }
}

/// A form's values or errors for a template: a map whose missing keys read as
/// `missing` ("" for values, none for errors), so a form renders the same
/// whether it is new, refused, or half filled, under strict undefined.
#[derive(Debug)]
pub struct FormMap {
    map: std::collections::BTreeMap<String, minijinja::Value>,
    missing: minijinja::Value,
}

impl minijinja::value::Object for FormMap {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        Some(
            key.as_str()
                .and_then(|k| self.map.get(k))
                .cloned()
                .unwrap_or_else(|| self.missing.clone()),
        )
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(
            self.map
                .keys()
                .map(|k| minijinja::Value::from(k.as_str()))
                .collect(),
        )
    }
}

/// Values for a form: each key's value ("" when absent).
pub fn values<K: Into<String>, V: Into<minijinja::Value>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> minijinja::Value {
    minijinja::Value::from_object(FormMap {
        map: pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        missing: minijinja::Value::from(""),
    })
}

/// Errors for a form: field → message (none when the field is fine).
pub fn errors(fields: &crate::error::FieldErrors) -> minijinja::Value {
    minijinja::Value::from_object(FormMap {
        map: fields
            .iter()
            .map(|(k, v)| (k.clone(), minijinja::Value::from(v.as_str())))
            .collect(),
        missing: minijinja::Value::from(()),
    })
}
