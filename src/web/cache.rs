//! Rendered public pages, kept per data version: a page is served again from
//! memory until the database changes (or `TTL` seconds pass on the board's
//! clock, for changes made by other processes, expiry, and text such as "3d ago").
//! A page past its TTL (but of the current version) is still served while one
//! request renders its successor, so refreshing never stalls a burst of readers.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// How many seconds a cached page may live without a write in this process: TTL
/// plus up to TTL more, drawn per page, so pages filled together do not all
/// expire (and re-render) in the same instant.
const TTL: i64 = 10;

struct Entry {
    version: u64,
    stored: i64,
    expires: i64,
    body: Bytes,
}

/// A bounded map of rendered pages.
pub struct PageCache {
    entries: RwLock<HashMap<String, Entry>>,
    /// One lock per page being rendered, so a burst of misses renders it once.
    rendering: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    max_bytes: usize,
    bytes: std::sync::atomic::AtomicUsize,
}

impl PageCache {
    /// A cache holding at most `max_bytes` of page bodies.
    pub fn new(max_bytes: usize) -> PageCache {
        PageCache {
            entries: RwLock::new(HashMap::new()),
            rendering: Mutex::new(HashMap::new()),
            max_bytes,
            bytes: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The page under `key` for data `version`, even if older than the TTL.
    fn stale(&self, key: &str, version: u64) -> Option<Bytes> {
        let entries = self.entries.read().ok()?;
        let e = entries.get(key)?;
        (e.version == version).then(|| e.body.clone())
    }

    /// The page stored under `key` for data `version`, if still fresh.
    pub fn get(&self, key: &str, version: u64, now: i64) -> Option<Bytes> {
        let entries = self.entries.read().ok()?;
        let e = entries.get(key)?;
        (e.version == version && (e.stored..e.expires).contains(&now)).then(|| e.body.clone())
    }

    /// The page under `key`, rendering it with `render` on a miss; concurrent
    /// misses for one key wait for the first to finish instead of rendering too.
    pub async fn get_or_render<F, Fut, E>(
        &self,
        key: &str,
        version: u64,
        now: i64,
        render: F,
    ) -> Result<Bytes, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Bytes, E>>,
    {
        if let Some(body) = self.get(key, version, now) {
            return Ok(body);
        }
        let lock = match self.rendering.lock() {
            Ok(mut map) => Arc::clone(map.entry(key.to_string()).or_default()),
            Err(_) => Arc::default(),
        };
        let guard = match lock.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Someone renders this page now: an older copy of the same data
                // serves meanwhile; without one, wait for theirs.
                if let Some(body) = self.stale(key, version) {
                    return Ok(body);
                }
                lock.lock().await
            }
        };
        let result = match self.get(key, version, now) {
            Some(body) => Ok(body),
            None => {
                let rendered = render().await;
                if let Ok(body) = &rendered {
                    self.put(key.to_string(), version, now, body.clone());
                }
                rendered
            }
        };
        drop(guard);
        if let Ok(mut map) = self.rendering.lock() {
            if map.get(key).is_some_and(|l| Arc::strong_count(l) <= 2) {
                map.remove(key);
            }
        }
        result
    }

    /// Stores a page; when full, first drops the entries of older versions and
    /// then the older half of the rest, so a full cache keeps its newest pages.
    pub fn put(&self, key: String, version: u64, now: i64, body: Bytes) {
        use std::sync::atomic::Ordering;
        if body.len() > self.max_bytes / 8 {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if self.bytes.load(Ordering::Relaxed) + body.len() > self.max_bytes {
            entries.retain(|_, e| e.version == version);
            let mut used: usize = entries.values().map(|e| e.body.len()).sum();
            if used + body.len() > self.max_bytes {
                let mut times: Vec<i64> = entries.values().map(|e| e.stored).collect();
                times.sort_unstable();
                let cut = times.get(times.len() / 2).copied().unwrap_or(i64::MAX);
                entries.retain(|_, e| e.stored > cut);
                used = entries.values().map(|e| e.body.len()).sum();
                if used + body.len() > self.max_bytes {
                    entries.clear();
                    used = 0;
                }
            }
            self.bytes.store(used, Ordering::Relaxed);
        }
        self.bytes.fetch_add(body.len(), Ordering::Relaxed);
        if let Some(old) = entries.insert(
            key,
            Entry {
                version,
                stored: now,
                expires: now + TTL + fastrand::i64(0..=TTL),
                body,
            },
        ) {
            self.bytes.fetch_sub(old.body.len(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_version_misses() {
        let c = PageCache::new(1 << 20);
        c.put("/".into(), 1, 100, Bytes::from_static(b"page"));
        assert_eq!(c.get("/", 1, 101).as_deref(), Some(&b"page"[..]));
        assert!(c.get("/", 2, 101).is_none());
        assert!(c.get("/other", 1, 101).is_none());
        assert!(
            c.get("/", 1, 100 + TTL - 1).is_some(),
            "fresh within the TTL"
        );
        assert!(
            c.get("/", 1, 101 + 2 * TTL).is_none(),
            "stale after the TTL and its spread"
        );
        assert!(c.stale("/", 1).is_some() && c.stale("/", 2).is_none());
    }

    #[test]
    fn a_full_cache_keeps_its_newest_pages() {
        let c = PageCache::new(100);
        for i in 0..10 {
            c.put(format!("/{i}"), 1, i, Bytes::from(vec![b'x'; 10]));
        }
        c.put("/new".into(), 1, 20, Bytes::from(vec![b'x'; 10]));
        assert!(c.get("/new", 1, 20).is_some());
        assert!(c.get("/9", 1, 11).is_some(), "newer pages stay");
        assert!(c.stale("/0", 1).is_none(), "the oldest go first");
    }

    #[test]
    fn stays_within_its_budget() {
        let c = PageCache::new(100);
        for i in 0..50 {
            c.put(format!("/{i}"), 1, 0, Bytes::from(vec![b'x'; 10]));
        }
        assert!(c.bytes.load(std::sync::atomic::Ordering::Relaxed) <= 100);
    }
}
