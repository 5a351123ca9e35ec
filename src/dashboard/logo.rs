//! Company logos: an uploaded PNG, JPEG or WebP, decoded with bounded memory,
//! shrunk to fit 256×256 and re-encoded as PNG, so nothing a user sent is
//! served as it came. Stored as `data_dir/uploads/logos/{company}-{hash}.png`
//! (a new name for new content, so it may be cached for ever).

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageError, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::web::uploads;

/// The largest logo file accepted.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Logos are shrunk to fit a square of this many pixels.
pub const SIZE: u32 = 256;
/// The widest or tallest image decoded at all.
const MAX_SIDE: u32 = 4096;
/// What one decode may allocate: a 4096×4096 RGBA image and some room.
const MAX_ALLOC: u64 = 80 * 1024 * 1024;

/// One decode at a time: two would double the memory for little gain.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Decodes an uploaded image (its format guessed from its bytes, never its
/// name or content type) and re-encodes it as a PNG fitting 256×256. The
/// error is a message for beside the field.
pub fn reencode(bytes: &[u8]) -> Result<Vec<u8>, &'static str> {
    let unreadable = "could not be read as a PNG, JPEG or WebP image";
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| unreadable)?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
        _ => return Err("must be a PNG, JPEG or WebP image"),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        ImageError::Limits(_) => "is too large: at most 4096 × 4096 pixels",
        _ => unreadable,
    })?;
    let image = if image.width() > SIZE || image.height() > SIZE {
        image.thumbnail(SIZE, SIZE)
    } else {
        image
    };
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(image.to_rgba8())
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|_| unreadable)?;
    Ok(out.into_inner())
}

/// [`reencode`] off the async runtime, one image at a time.
pub async fn reencode_blocking(bytes: Vec<u8>) -> Result<Result<Vec<u8>, &'static str>, AppError> {
    let _turn = DECODING
        .acquire()
        .await
        .map_err(|_| AppError::Unavailable("shutting down".into()))?;
    tokio::task::spawn_blocking(move || reencode(&bytes))
        .await
        .map_err(|e| AppError::internal(format!("logo task failed: {e}")))
}

/// Writes a re-encoded logo of a company; returns its URL path
/// (`/uploads/logos/{company}-{hash}.png`).
pub async fn store(data_dir: &Path, company_id: i64, png: Vec<u8>) -> Result<String, AppError> {
    let hash = crate::crypto::hex(&Sha256::digest(&png)[..8]);
    let name = format!("{company_id}-{hash}.png");
    let dir = data_dir.join(uploads::DIR).join("logos");
    let file = name.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{file}.tmp"));
        std::fs::write(&tmp, &png)?;
        std::fs::rename(&tmp, dir.join(&file))
    })
    .await
    .map_err(|e| AppError::internal(format!("logo task failed: {e}")))?
    .map_err(|e| AppError::internal(format!("could not store a logo: {e}")))?;
    Ok(format!("/{}/logos/{name}", uploads::DIR))
}

/// Removes a company's replaced logo file: only a file made for this company
/// (`{company_id}-…`), whatever its `logo_url` says. A failure is only logged
/// (the page no longer links to it).
pub async fn remove(data_dir: &Path, company_id: i64, url: &str) {
    let own = format!("{company_id}-");
    let Some(path) = url
        .strip_prefix("/uploads/logos/")
        .filter(|name| name.starts_with(&own))
        .and_then(|name| uploads::resolve(data_dir, &format!("logos/{name}")))
    else {
        return;
    };
    match tokio::fs::remove_file(&path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "could not remove an old logo")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img)
            .write_to(&mut out, format)
            .expect("encode");
        out.into_inner()
    }

    fn decoded(png: &[u8]) -> DynamicImage {
        image::load_from_memory_with_format(png, ImageFormat::Png).expect("a PNG")
    }

    #[test]
    fn a_large_jpeg_becomes_a_png_that_fits_keeping_its_shape() {
        let png = reencode(&encoded(1000, 500, ImageFormat::Jpeg)).expect("accepted");
        let img = decoded(&png);
        assert_eq!((img.width(), img.height()), (256, 128));
    }

    #[test]
    fn a_small_image_keeps_its_size() {
        let png = reencode(&encoded(40, 30, ImageFormat::Png)).expect("accepted");
        let img = decoded(&png);
        assert_eq!((img.width(), img.height()), (40, 30));
    }

    #[test]
    fn other_content_is_refused() {
        assert!(reencode(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        assert!(reencode(b"just text, named logo.png").is_err());
        assert!(reencode(&[]).is_err());
        // A PNG signature with nothing after it.
        assert!(reencode(b"\x89PNG\r\n\x1a\n").is_err());
    }

    #[test]
    fn a_huge_canvas_is_refused_before_it_is_decoded() {
        // A PNG header claiming 20000 × 20000 pixels: refused by the limits,
        // not allocated.
        let mut png = Vec::new();
        png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&20_000u32.to_be_bytes());
        ihdr.extend_from_slice(&20_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        assert_eq!(
            reencode(&png),
            Err("is too large: at most 4096 × 4096 pixels")
        );
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
