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

/// Entries kept before expired windows are swept out.
const SWEEP_AT: usize = 50_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

/// The counters of every limit.
#[derive(Debug)]
pub struct Limiter {
    enabled: bool,
    windows: Mutex<HashMap<(&'static str, String), Window>>,
}

impl Limiter {
    pub fn new(enabled: bool) -> Limiter {
        Limiter {
            enabled,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt; refuses it (with the seconds to wait) when the
    /// window is already full.
    pub fn hit(
        &self,
        scope: &'static str,
        key: &str,
        rate: Rate,
        now: i64,
    ) -> Result<(), AppError> {
        self.check(scope, key, rate, now)?;
        self.record(scope, key, rate, now);
        Ok(())
    }

    /// Refuses when the window is full, without counting (for limits that
    /// count only failures, such as wrong passwords).
    pub fn check(
        &self,
        scope: &'static str,
        key: &str,
        rate: Rate,
        now: i64,
    ) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let windows = self.lock();
        if let Some(w) = windows.get(&(scope, key.to_string())) {
            let end = w.start + rate.window.as_secs() as i64;
            if now < end && w.count >= rate.count {
                return Err(AppError::TooManyRequests {
                    retry_after: (end - now).max(1) as u64,
                });
            }
        }
        Ok(())
    }

    /// Counts one attempt (a failure, for failure-only limits).
    pub fn record(&self, scope: &'static str, key: &str, rate: Rate, now: i64) {
        if !self.enabled {
            return;
        }
        let window = rate.window.as_secs() as i64;
        let mut windows = self.lock();
        if windows.len() >= SWEEP_AT {
            // Windows are at most a day long: anything older is over.
            windows.retain(|_, w| now - w.start < 86_400);
        }
        let w = windows.entry((scope, key.to_string())).or_insert(Window {
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

    /// Forgets a key's count (a successful sign-in clears its failures).
    pub fn clear(&self, scope: &'static str, key: &str) {
        self.lock().remove(&(scope, key.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(&'static str, String), Window>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The client's address: the peer, or, when the peer is a proxy on this
/// machine (loopback), the last address it added to `X-Forwarded-For`.
pub fn client_ip(req: &Request) -> String {
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
    match peer {
        Some(ip) if !ip.is_loopback() => ip.to_string(),
        // A local proxy, or the test client (no socket): trust the header.
        _ => forwarded()
            .or(peer)
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".into()),
    }
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
    fn failure_only_limits_and_clearing() {
        let l = Limiter::new(true);
        let r = rate(2, 900);
        l.check("login_account", "a@x", r, 0).expect("fresh");
        l.record("login_account", "a@x", r, 0);
        l.record("login_account", "a@x", r, 1);
        assert!(l.check("login_account", "a@x", r, 2).is_err());
        l.clear("login_account", "a@x");
        l.check("login_account", "a@x", r, 3).expect("cleared");
    }

    #[test]
    fn disabled_limits_allow_everything() {
        let l = Limiter::new(false);
        for _ in 0..100 {
            l.hit("login_ip", "x", rate(1, 60), 0).expect("off");
        }
    }
}
