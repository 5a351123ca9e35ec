//! Passwords: argon2id hashes, at most a few computed at once, and the rules
//! a new password must pass.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Hashes computed at once. Each takes 19 MiB and most of a core for a few
/// tens of milliseconds: a burst of sign-ins waits in line instead of
/// exhausting a small machine's memory.
static HASHING: Semaphore = Semaphore::const_new(2);

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// argon2id with its defaults (19 MiB, 2 passes, 1 lane: the OWASP Password
/// Storage Cheat Sheet's recommended minimum).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// Hashes a password now, on this thread (commands; tests).
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(&crate::crypto::random_bytes::<16>()?)
        .map_err(|e| AppError::internal(format!("salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hashing a password: {e}")))
}

fn verify_blocking(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of nothing anyone knows, checked against when the account does not
/// exist, so that answering takes as long as for a real account.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_blocking("a decoy password nobody has").unwrap_or_default())
}

/// Hashes a password off the async runtime, waiting for a free slot.
pub async fn hash(password: String) -> Result<String, AppError> {
    let _slot = HASHING
        .acquire()
        .await
        .map_err(|_| AppError::internal("hashing closed"))?;
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::internal(format!("hashing: {e}")))?
}

/// Whether `password` matches `hash`; with no hash (no such account) it checks
/// a decoy and answers false, in about the same time.
pub async fn verify(hash: Option<String>, password: String) -> bool {
    let Ok(_slot) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_blocking(&h, &password),
        None => {
            let _ = verify_blocking(decoy(), &password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Words that make up most guessed passwords once digits and symbols around
/// them are taken away ("Password123!", "qwerty2024!!").
const COMMON_CORES: &[&str] = &[
    "password",
    "passw",
    "passwort",
    "pass",
    "qwerty",
    "qwertz",
    "azerty",
    "qwertyuiop",
    "asdfgh",
    "asdfghjkl",
    "zxcvbn",
    "zxcvbnm",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "administrator",
    "login",
    "changeme",
    "secret",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "soccer",
    "master",
    "shadow",
    "sunshine",
    "princess",
    "superman",
    "batman",
    "trustno",
    "abc",
    "abcd",
    "abcdef",
    "abcdefgh",
    "test",
    "testing",
    "user",
    "default",
    "jobboard",
    "jobs",
    "hello",
    "freedom",
    "whatever",
    "starwars",
    "computer",
    "internet",
    "summer",
    "winter",
    "spring",
    "autumn",
    "love",
    "god",
    "money",
    "michael",
    "jordan",
];

/// Why a new password is refused, or `None` when it will do.
pub fn refuse(password: &str, email: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Some(format!("Use at least {MIN_LEN} characters."));
    }
    if chars > MAX_LEN {
        return Some(format!("Use at most {MAX_LEN} characters."));
    }
    let lower = password.to_lowercase();
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    let core: String = lower
        .trim_matches(|c: char| !c.is_alphabetic())
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    let common = distinct.len() < 5
        || is_run(&lower)
        || COMMON_CORES.contains(&core.as_str())
        || COMMON_CORES.iter().any(|w| core == w.repeat(2))
        || (local.len() >= 4 && lower.contains(&local));
    common.then(|| {
        "This password is too common or too easy to guess: try a few unrelated words.".into()
    })
}

/// Whether the password is only a keyboard or counting run ("123456789012",
/// "1q2w3e4r5t6y", "abcdefghijkl").
fn is_run(lower: &str) -> bool {
    const RUNS: &[&str] = &[
        "1234567890123456789012345678901234567890",
        "0987654321098765432109876543210987654321",
        "abcdefghijklmnopqrstuvwxyz",
        "qwertyuiopasdfghjklzxcvbnm",
        "1q2w3e4r5t6y7u8i9o0p",
        "1qaz2wsx3edc4rfv5tgb6yhn",
        "zaq12wsxcde34rfvbgt56yhn",
    ];
    RUNS.iter().any(|run| run.contains(lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let h = hash_blocking("correct horse battery staple").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking(&h, "correct horse battery staple"));
        assert!(!verify_blocking(&h, "correct horse battery stapler"));
        let again = hash_blocking("correct horse battery staple").expect("hash");
        assert_ne!(h, again, "a new salt each time");
        assert!(!verify_blocking("not a hash", "x"));
    }

    #[test]
    fn new_password_rules() {
        let email = "maria.lopez@example.com";
        assert!(refuse("correct horse battery", email).is_none());
        assert!(refuse("Zebra-Lamp-Violin-42", email).is_none());
        for bad in [
            "short",
            "Password123!",
            "password1234",
            "passwordpassword",
            "qwerty123456!!",
            "123456789012",
            "1q2w3e4r5t6y",
            "aaaaaaaaaaaaaaa",
            "ababababababab",
            "maria.lopez2024",
            "Letmein!!2026",
        ] {
            assert!(refuse(bad, email).is_some(), "{bad} should be refused");
        }
        assert!(
            refuse(&"x1y2z3w4v5".repeat(13), email).is_some(),
            "too long"
        );
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        assert!(!verify(None, "anything at all here".into()).await);
        let h = hash("a fine long passphrase".into()).await.expect("hash");
        assert!(verify(Some(h), "a fine long passphrase".into()).await);
    }
}
