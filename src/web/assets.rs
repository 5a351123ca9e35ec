//! Static files embedded from `assets/`, served under fingerprinted names
//! (`/assets/css/app.1a2b3c4d5e.css`) with `immutable` caching and ETags.

use std::collections::HashMap;

use bytes::Bytes;
use poem::http::{StatusCode, header};
use poem::{Body, Request, Response};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "assets/"]
struct AssetFiles;

struct Asset {
    body: Bytes,
    etag: String,
    content_type: &'static str,
}

/// The embedded assets, by fingerprinted path and by logical path.
pub struct Assets {
    files: HashMap<String, Asset>,
    urls: HashMap<String, String>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `css/app.css` + hash → `css/app.<hash>.css`.
fn fingerprinted(path: &str, hash: &str) -> String {
    match path.rsplit_once('.') {
        Some((stem, ext)) if !stem.ends_with('/') => format!("{stem}.{hash}.{ext}"),
        _ => format!("{path}.{hash}"),
    }
}

impl Assets {
    pub fn load() -> Assets {
        let mut files = HashMap::new();
        let mut urls = HashMap::new();
        for path in AssetFiles::iter() {
            let Some(file) = AssetFiles::get(&path) else {
                continue;
            };
            let digest = Sha256::digest(&file.data);
            let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
            let name = fingerprinted(&path, &hash);
            urls.insert(path.to_string(), format!("/assets/{name}"));
            files.insert(
                name,
                Asset {
                    body: Bytes::from(file.data.into_owned()),
                    etag: format!("\"{hash}\""),
                    content_type: content_type(&path),
                },
            );
        }
        Assets { files, urls }
    }

    /// The public URL of a logical asset path such as `css/app.css`.
    pub fn url(&self, path: &str) -> Option<&str> {
        self.urls.get(path).map(String::as_str)
    }

    /// Answers a request for `/assets/{name}`.
    pub fn respond(&self, name: &str, req: &Request) -> Response {
        let Some(asset) = self.files.get(name) else {
            return Response::builder().status(StatusCode::NOT_FOUND).finish();
        };
        let builder = Response::builder()
            .header(header::ETAG, asset.etag.as_str())
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
        let matches = req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim() == asset.etag || t.trim() == "*")
            });
        if matches {
            return builder.status(StatusCode::NOT_MODIFIED).finish();
        }
        builder
            .content_type(asset.content_type)
            .body(Body::from_bytes(asset.body.clone()))
    }

    /// The favicon, for browsers that ask for `/favicon.ico` regardless.
    pub fn favicon(&self, req: &Request) -> Response {
        match self
            .url("img/favicon.svg")
            .and_then(|u| u.strip_prefix("/assets/"))
        {
            Some(name) => self.respond(name, req),
            None => Response::builder().status(StatusCode::NOT_FOUND).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_fingerprinted() {
        assert_eq!(fingerprinted("css/app.css", "abc"), "css/app.abc.css");
        let a = Assets::load();
        let url = a.url("css/app.css").expect("stylesheet embedded");
        assert!(
            url.starts_with("/assets/css/app.") && url.ends_with(".css"),
            "{url}"
        );
    }
}
