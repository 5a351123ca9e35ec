//! Rate limits: fixed windows counted in memory per (scope, key), on the
//! board's clock so tests can move past a window without sleeping.
//!
//! A scope is one kind of attempt (`login_ip`, `login_account`, …); the key is
//! an IP address or an account's email. The counts live in this process only: a
//! restart forgives everyone, which is fine for a single-binary board.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use poem::Request;

use crate::config::Rate;
use crate::error::AppError;

/// Entries kept at most: past this, ended windows are dropped, then the
/// oldest, down to half. (An entry is ~60 bytes: the cap is a few MB.)
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

/// A counter's key: the scope and a digest of the key, so a long key (an
/// email field of 200 KB) costs no more memory than a short one.
type Key = (&'static str, [u8; 16]);

fn key(scope: &'static str, key: &str) -> Key {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut short = [0u8; 16];
    short.copy_from_slice(&digest[..16]);
    (scope, short)
}

/// The counters of every limit.
#[derive(Debug)]
pub struct Limiter {
    enabled: bool,
    windows: Mutex<HashMap<Key, Window>>,
}

impl Limiter {
    pub fn new(enabled: bool) -> Limiter {
        Limiter {
            enabled,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt, refusing it (with the seconds to wait) when the
    /// window is already full. Checking and counting happen under one lock,
    /// so attempts sent at once cannot all slip past the check.
    pub fn hit(
        &self,
        scope: &'static str,
        key: &str,
        rate: Rate,
        now: i64,
    ) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let mut windows = self.lock();
        refuse_if_full(&windows, scope, key, rate, now)?;
        count(&mut windows, scope, key, rate, now);
        Ok(())
    }

    /// Forgets a key's count (a successful sign-in clears its failures).
    pub fn clear(&self, scope: &'static str, key: &str) {
        self.lock().remove(&self::key(scope, key));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn refuse_if_full(
    windows: &HashMap<Key, Window>,
    scope: &'static str,
    k: &str,
    rate: Rate,
    now: i64,
) -> Result<(), AppError> {
    if let Some(w) = windows.get(&key(scope, k)) {
        let end = w.start + rate.window.as_secs() as i64;
        if now < end && w.count >= rate.count {
            return Err(AppError::TooManyRequests {
                retry_after: (end - now).max(1) as u64,
            });
        }
    }
    Ok(())
}

fn count(windows: &mut HashMap<Key, Window>, scope: &'static str, k: &str, rate: Rate, now: i64) {
    if windows.len() >= MAX_ENTRIES {
        shrink(windows, now);
    }
    let window = rate.window.as_secs() as i64;
    let w = windows.entry(key(scope, k)).or_insert(Window {
        start: now,
        count: 0,
    });
    if now >= w.start + window {
        *w = Window {
            start: now,
            count: 0,
        };
    }
    w.count = w.count.saturating_add(1);
}

/// Drops windows that have surely ended (none is longer than a day), then the
/// oldest until half the cap is left.
fn shrink(windows: &mut HashMap<Key, Window>, now: i64) {
    windows.retain(|_, w| now - w.start < 86_400);
    if windows.len() > MAX_ENTRIES / 2 {
        let mut starts: Vec<i64> = windows.values().map(|w| w.start).collect();
        let cut = starts.len() - MAX_ENTRIES / 2;
        let (_, nth, _) = starts.select_nth_unstable(cut);
        let threshold = *nth;
        windows.retain(|_, w| w.start > threshold);
    }
}

/// The client's address: the peer, or, when the peer is a proxy on this
/// machine (loopback), the last address it added to `X-Forwarded-For`.
pub fn client_ip(req: &Request) -> String {
    match client_addr(req) {
        // One IPv6 subscriber usually holds a whole /64: count it as one.
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(ip) => ip.to_string(),
        None => "unknown".into(),
    }
}

/// The client's address as [`client_ip`] finds it, whole; `None` when
/// neither the socket nor a trusted header says.
pub fn client_addr(req: &Request) -> Option<IpAddr> {
    let peer: Option<IpAddr> = req
        .remote_addr()
        .as_socket_addr()
        .map(|a| a.ip().to_canonical());
    let forwarded = || {
        req.headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    };
    let ip = match peer {
        Some(ip) if !from_local_proxy(req) => Some(ip),
        // A local proxy, or the test client (no socket): trust the header.
        _ => forwarded().or(peer),
    };
    ip.map(|ip| ip.to_canonical())
}

/// Whether the request came from this machine (a reverse proxy here) or
/// from no socket at all (the test client): only then are forwarded headers
/// (`X-Forwarded-For`, `X-Request-Id`) believed.
pub fn from_local_proxy(req: &Request) -> bool {
    req.remote_addr()
        .as_socket_addr()
        .is_none_or(|a| a.ip().to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rate(count: u32, secs: u64) -> Rate {
        Rate {
            count,
            window: Duration::from_secs(secs),
        }
    }

    #[test]
    fn refuses_past_the_count_until_the_window_ends() {
        let l = Limiter::new(true);
        let r = rate(3, 60);
        for _ in 0..3 {
            l.hit("login_ip", "1.2.3.4", r, 1000).expect("allowed");
        }
        let err = l.hit("login_ip", "1.2.3.4", r, 1010).expect_err("limited");
        assert_eq!(err.retry_after(), Some(50));
        // Another key and another scope are counted apart.
        l.hit("login_ip", "5.6.7.8", r, 1010).expect("other key");
        l.hit("register_ip", "1.2.3.4", r, 1010)
            .expect("other scope");
        // A new window.
        l.hit("login_ip", "1.2.3.4", r, 1060).expect("window over");
    }

    #[test]
    fn clearing_forgives() {
        let l = Limiter::new(true);
        let r = rate(2, 900);
        l.hit("login_account", "a@x", r, 0).expect("first");
        l.hit("login_account", "a@x", r, 1).expect("second");
        assert!(l.hit("login_account", "a@x", r, 2).is_err());
        l.clear("login_account", "a@x");
        l.hit("login_account", "a@x", r, 3).expect("cleared");
    }

    #[test]
    fn the_table_stays_bounded() {
        let l = Limiter::new(true);
        let r = rate(5, 60);
        for i in 0..(MAX_ENTRIES + 10) {
            l.hit(
                "login_account",
                &format!("user{i}@example.com"),
                r,
                i as i64 / 100,
            )
            .expect("new key");
        }
        assert!(l.lock().len() <= MAX_ENTRIES / 2 + 11, "{}", l.lock().len());
        // A huge key costs one entry like any other.
        l.hit("login_account", &"x".repeat(200_000), r, 1000)
            .expect("new key");
        assert!(l.lock().keys().all(|(_, k)| k.len() == 16));
    }

    #[test]
    fn disabled_limits_allow_everything() {
        let l = Limiter::new(false);
        for _ in 0..100 {
            l.hit("login_ip", "x", rate(1, 60), 0).expect("off");
        }
    }
}
