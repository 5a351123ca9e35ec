//! `/uploads/…`: files the board stored from uploads (company logos, always
//! re-encoded), served from `data_dir/uploads/`. Names carry a hash of their
//! content, so they are cached for a year.

use std::path::{Path, PathBuf};

use poem::http::header;
use poem::web::Data;
use poem::{Response, handler};

use super::State;
use crate::error::AppError;

/// The folder under the data dir that holds uploads.
pub const DIR: &str = "uploads";

/// The file a path under `/uploads/` names: only plain names (letters,
/// digits, `-`, `_`, `.`, not starting with a dot) joined by `/`, so no path
/// leaves the folder and no temporary file is served.
pub fn resolve(data_dir: &Path, rel: &str) -> Option<PathBuf> {
    let safe = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if rel.len() > 200 || !rel.split('/').all(safe) {
        return None;
    }
    Some(data_dir.join(DIR).join(rel))
}

/// The content type of the images the board writes, by extension.
fn content_type(rel: &str) -> Option<&'static str> {
    match rel.rsplit_once('.')?.1 {
        "png" => Some("image/png"),
        "webp" => Some("image/webp"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        _ => None,
    }
}

#[handler]
pub async fn serve(
    Data(state): Data<&State>,
    poem::web::Path(rel): poem::web::Path<String>,
) -> poem::Result<Response> {
    let rel = rel.trim_start_matches('/');
    let kind = content_type(rel).ok_or(AppError::NotFound)?;
    let path = resolve(&state.config.data_dir, rel).ok_or(AppError::NotFound)?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(AppError::NotFound.into()),
        Err(e) => {
            return Err(AppError::internal(format!("reading {}: {e}", path.display())).into());
        }
    };
    Ok(Response::builder()
        .content_type(kind)
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_inside_the_folder() {
        let dir = Path::new("/data");
        assert_eq!(
            resolve(dir, "logos/3-abc.png"),
            Some(PathBuf::from("/data/uploads/logos/3-abc.png"))
        );
        for bad in [
            "../secret.key",
            "logos/../../jobboard.db",
            "logos/./x.png",
            "/etc/passwd",
            "logos//x.png",
            "logos/.x.png.tmp",
            "logos\\x.png",
            "logos/%2e%2e/x.png",
            "",
        ] {
            assert_eq!(resolve(dir, bad), None, "{bad}");
        }
    }

    #[test]
    fn only_images_have_a_type() {
        assert_eq!(content_type("logos/1-a.png"), Some("image/png"));
        assert_eq!(content_type("logos/1-a.html"), None);
        assert_eq!(content_type("logos/noext"), None);
    }
}
