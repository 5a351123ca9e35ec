//! A browser for the tests: keeps cookies, sends forms with this browser's
//! CSRF token, and comes from one IP address.

use std::collections::BTreeMap;
use std::sync::Mutex;

use poem::http::{Method, header};

use super::TestApp;

/// What a request answered.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: poem::http::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }

    /// The value of the first `name="…" value="…"` input in the page.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let rest = &self.body[at..];
        let v = rest.find("value=\"")? + 7;
        let end = rest[v..].find('"')?;
        Some(
            rest[v..v + end]
                .replace("&amp;", "&")
                .replace("&quot;", "\""),
        )
    }
}

pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: Mutex<BTreeMap<String, String>>,
    pub ip: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp, ip: &str) -> Browser<'a> {
        Browser {
            app,
            cookies: Mutex::new(BTreeMap::new()),
            ip: ip.to_string(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("jar").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .expect("jar")
            .insert(name.into(), value.into());
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .expect("jar")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, page: &Page) {
        let mut jar = self.cookies.lock().expect("jar");
        for c in page.set_cookies() {
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                let removal = v.is_empty() || c.contains("Max-Age=0");
                if removal {
                    jar.remove(k.trim());
                } else {
                    jar.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Page {
        let mut req = match method {
            Method::POST => self.app.http.post(path),
            _ => self.app.http.get(path),
        }
        .header("x-forwarded-for", &self.ip);
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies);
        }
        if let Some(ct) = content_type {
            req = req.content_type(ct);
        }
        let resp = req.body(body).send().await;
        let status = resp.0.status().as_u16();
        let headers = resp.0.headers().clone();
        let body = resp.0.into_body().into_string().await.unwrap_or_default();
        let page = Page {
            status,
            headers,
            body,
        };
        self.keep_cookies(&page);
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        self.request(Method::GET, path, None, Vec::new()).await
    }

    /// This browser's CSRF token (loading a form page the first time).
    pub async fn csrf(&self) -> String {
        let page = self.get("/login").await;
        page.input_value("csrf_token")
            .expect("a csrf token on /login")
    }

    /// Posts a form as it stands, without adding a token.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("encode");
        self.request(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
        )
        .await
    }

    /// Posts a form with this browser's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Registers a new employer and stays signed in.
    pub async fn register(&self, email: &str) -> Page {
        let page = self
            .post("/register", &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, 303, "registered {email}: {}", page.body);
        page
    }

    /// Signs in with the tests' password.
    pub async fn login(&self, email: &str) -> Page {
        self.post("/login", &[("email", email), ("password", PASSWORD)])
            .await
    }
}

/// The password every test account uses.
pub const PASSWORD: &str = "violet tractor under moonlight";
