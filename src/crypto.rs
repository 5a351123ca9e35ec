//! Randomness, token hashing and the site key: the small pieces of
//! cryptography the accounts, CSRF and API tokens share.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// `n` bytes from the operating system's secure random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| AppError::internal(format!("no secure randomness: {e}")))?;
    Ok(buf)
}

/// A new random token to hand out (sessions, emailed links, API tokens):
/// 32 random bytes as 64 lower-case hex characters.
pub fn new_token() -> Result<String, AppError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// What the database keeps of a token: its SHA-256, never the token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The board's own secret: 32 random bytes in `data_dir/secret.key`, made on
/// first start and kept, so CSRF tokens survive restarts.
#[derive(Clone)]
pub struct SiteKey([u8; 32]);

impl std::fmt::Debug for SiteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SiteKey(…)")
    }
}

impl SiteKey {
    /// Reads the key from the data directory, creating it when missing.
    pub fn load_or_create(data_dir: &Path) -> Result<SiteKey, AppError> {
        let path = data_dir.join("secret.key");
        let io = |e: std::io::Error| AppError::internal(format!("{}: {e}", path.display()));
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    AppError::internal(format!(
                        "{} must hold exactly 32 bytes; delete it to make a new one",
                        path.display()
                    ))
                })?;
                Ok(SiteKey(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let key = random_bytes::<32>()?;
                write_private(&path, &key).map_err(io)?;
                Ok(SiteKey(key))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// HMAC-SHA256 of `message` under this key.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        #[allow(clippy::expect_used)]
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any size");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }
}

/// Writes a file only its owner may read (on Unix), failing if it exists.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token().expect("token");
        let b = new_token().expect("token");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn the_site_key_is_kept_between_starts() {
        let dir = tempfile::tempdir().expect("dir");
        let first = SiteKey::load_or_create(dir.path()).expect("create");
        let again = SiteKey::load_or_create(dir.path()).expect("load");
        assert_eq!(first.sign(b"x"), again.sign(b"x"));
        let other = tempfile::tempdir().expect("dir");
        let fresh = SiteKey::load_or_create(other.path()).expect("create");
        assert_ne!(first.sign(b"x"), fresh.sign(b"x"));
        std::fs::write(dir.path().join("secret.key"), b"short").expect("write");
        assert!(SiteKey::load_or_create(dir.path()).is_err());
    }

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
