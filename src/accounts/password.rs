//! Passwords: argon2id hashes, at most a few computed at once, and the rules
//! a new password must pass.

use std::cell::RefCell;
use std::sync::{Mutex, mpsc};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::AppError;

/// Threads that compute hashes. Each hash takes 19 MiB and most of a core
/// for a few tens of milliseconds: a burst of sign-ins waits in line instead
/// of exhausting a small machine. They are dedicated threads, not the runtime's
/// blocking pool: the allocator keeps freed hash memory per thread, so two
/// threads keep ~40 MiB where sixteen blocking threads kept ~800 MiB.
const HASHING_THREADS: usize = 2;

type HashJob = Box<dyn FnOnce() + Send>;

/// Runs `f` on one of the hashing threads and waits for its answer.
async fn on_hashing_thread<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, AppError> {
    static QUEUE: std::sync::OnceLock<Option<Mutex<mpsc::Sender<HashJob>>>> =
        std::sync::OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..HASHING_THREADS {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if spawned.is_err() {
                return None;
            }
        }
        Some(Mutex::new(tx))
    });
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = tx.send(f());
    });
    queue
        .as_ref()
        .and_then(|q| q.lock().ok())
        .ok_or_else(|| AppError::internal("no hashing threads"))?
        .send(job)
        .map_err(|_| AppError::internal("hashing threads stopped"))?;
    rx.await
        .map_err(|_| AppError::internal("a hashing thread failed"))
}

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

thread_local! {
    /// The hash's working memory, kept by each hashing thread and reused:
    /// allocating 19 MiB per hash left the allocator holding ~110 MiB per
    /// thread after a few dozen sign-ins.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Computes an argon2id output into `out`, in this thread's kept memory.
fn compute(params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), AppError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    MEMORY
        .with(|memory| {
            let mut memory = memory.borrow_mut();
            let need = params.block_count();
            if memory.len() != need {
                *memory = vec![Block::default(); need];
            }
            argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..])
        })
        .map_err(|e| AppError::internal(format!("hashing a password: {e}")))
}

/// Hashes a password now, on this thread, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`): argon2id with its defaults
/// (19 MiB, 2 passes, 1 lane: the OWASP Password Storage Cheat Sheet's
/// recommended minimum).
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    let bad = |e: argon2::password_hash::Error| AppError::internal(format!("password hash: {e}"));
    let salt_bytes = crate::crypto::random_bytes::<16>()?;
    let params = Params::default();
    let mut out = [0u8; 32];
    compute(&params, password.as_bytes(), &salt_bytes, &mut out)?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(bad)?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(bad)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(bad)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches a PHC argon2id string.
fn verify_blocking(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    parsed.algorithm == argon2::ARGON2ID_IDENT
        && compute(&params, password.as_bytes(), salt, &mut out).is_ok()
        && crate::crypto::constant_time_eq(&out, expected.as_bytes())
}

/// A hash of nothing anyone knows, checked against when the account does not
/// exist, so that answering takes as long as for a real account.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_blocking("a decoy password nobody has").unwrap_or_default())
}

/// Hashes a password on a hashing thread, waiting in line for one.
pub async fn hash(password: String) -> Result<String, AppError> {
    on_hashing_thread(move || hash_blocking(&password)).await?
}

/// Whether `password` matches `hash`; with no hash (no such account) it checks
/// a decoy and answers false, in about the same time.
pub async fn verify(hash: Option<String>, password: String) -> bool {
    on_hashing_thread(move || match hash {
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
    fn hashes_are_standard_phc_strings() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Made by the crate's own hasher: we verify it…
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let theirs = Argon2::default()
            .hash_password(b"interoperable passphrase", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_blocking(&theirs, "interoperable passphrase"));
        assert!(!verify_blocking(&theirs, "interoperable passphrasE"));
        // …and it verifies ours.
        let ours = hash_blocking("interoperable passphrase").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(
            Argon2::default()
                .verify_password(b"interoperable passphrase", &parsed)
                .is_ok()
        );
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
