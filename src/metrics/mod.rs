//! Numbers to watch, for `/metrics` (Prometheus) and `/healthz`: counters and
//! histograms this process keeps in memory (requests, searches, mail, task
//! failures), and gauges read when asked (jobs, the task queue, the index,
//! the database's size, memory). Recording costs a few atomic additions, and
//! one short lock for a request's counter.

pub mod gauges;
pub mod histogram;
pub mod process;
pub mod routes;
pub mod text;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use poem::http::Method;

use gauges::Gauges;
use histogram::Histogram;
use text::Exposition;

/// The methods counted by name; any other is `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];

fn method_index(method: &Method) -> u8 {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|m| *m == method.as_str())
        .unwrap_or(METHODS.len() - 1) as u8
}

/// A request counter's labels: route index, method index, status. Each is
/// from a fixed set, so the counters are bounded.
type RequestKey = (u16, u8, u16);

/// Hashes the few small integers of a [`RequestKey`] with a multiply and a
/// rotate (as rustc's FxHasher does): the default SipHash, built to resist
/// chosen keys, costs more than the rest of the counting, and these keys are
/// not chosen by anyone.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type Counts = HashMap<RequestKey, u64, std::hash::BuildHasherDefault<KeyHasher>>;

/// This process's counters and histograms.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    started_unix: f64,
    requests: Mutex<Counts>,
    /// Request durations, one histogram per route (see [`routes`]).
    durations: Box<[Histogram]>,
    search: Histogram,
    mail_sent: AtomicU64,
    mail_failed: AtomicU64,
    task_failures: AtomicU64,
    /// When the worker last went round its loop: milliseconds since
    /// `started`, plus one (0: no worker in this process).
    worker_beat: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let started_unix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Metrics {
            started: Instant::now(),
            started_unix,
            requests: Mutex::new(Counts::with_capacity_and_hasher(64, Default::default())),
            durations: (0..routes::COUNT).map(|_| Histogram::default()).collect(),
            search: Histogram::default(),
            mail_sent: AtomicU64::new(0),
            mail_failed: AtomicU64::new(0),
            task_failures: AtomicU64::new(0),
            worker_beat: AtomicU64::new(0),
        }
    }

    /// Counts a request answered: `route` from [`routes::classify`].
    pub fn request(&self, route: usize, method: &Method, status: u16, elapsed: Duration) {
        let route = route.min(routes::COUNT - 1);
        let key = (route as u16, method_index(method), status);
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry(key).or_insert(0) += 1;
        }
        self.durations[route].observe(elapsed);
    }

    /// Records how long a search took.
    pub fn search(&self, elapsed: Duration) {
        self.search.observe(elapsed);
    }

    /// Counts an email handed to the transport, or a delivery that failed
    /// (and will be retried).
    pub fn mail(&self, delivered: bool) {
        let counter = if delivered {
            &self.mail_sent
        } else {
            &self.mail_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a task run that failed (it is retried, or given up).
    pub fn task_failed(&self) {
        self.task_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Notes that the background worker is alive and going round its loop.
    pub fn worker_active(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.worker_beat.store(ms + 1, Ordering::Relaxed);
    }

    /// How long ago the worker last went round its loop; `None` when this
    /// process runs no worker.
    pub fn worker_idle(&self) -> Option<Duration> {
        match self.worker_beat.load(Ordering::Relaxed) {
            0 => None,
            beat => Some(
                self.started
                    .elapsed()
                    .saturating_sub(Duration::from_millis(beat - 1)),
            ),
        }
    }

    /// How long this process has been serving.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The whole page, in the Prometheus text format.
    pub fn render(&self, g: &Gauges) -> String {
        let mut e = Exposition::default();
        self.render_requests(&mut e);
        e.family(
            "jobboard_search_duration_seconds",
            "histogram",
            "Time a search took in the index (with the database lookups of its page of jobs).",
        );
        e.histogram(
            "jobboard_search_duration_seconds",
            &[],
            &self.search.snapshot(),
        );
        let counters = [
            (
                "jobboard_mail_sent_total",
                "Emails handed to the mail transport by this process.",
                &self.mail_sent,
            ),
            (
                "jobboard_mail_failed_total",
                "Email deliveries that failed in this process (each is retried).",
                &self.mail_failed,
            ),
            (
                "jobboard_tasks_failed_total",
                "Background task runs that failed in this process (retried until their attempts run out).",
                &self.task_failures,
            ),
        ];
        for (name, help, counter) in counters {
            e.family(name, "counter", help);
            e.sample(name, &[], counter.load(Ordering::Relaxed));
        }
        g.render(&mut e);
        e.family(
            "jobboard_worker_idle_seconds",
            "gauge",
            "Seconds since the background worker of this process last went round its loop (it does at least every few seconds).",
        );
        if let Some(idle) = self.worker_idle() {
            e.sample("jobboard_worker_idle_seconds", &[], idle.as_secs_f64());
        }
        e.family(
            "jobboard_build_info",
            "gauge",
            "The running version, as a label.",
        );
        e.sample(
            "jobboard_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );
        e.family(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch, in seconds.",
        );
        e.sample("process_start_time_seconds", &[], self.started_unix.floor());
        e.finish()
    }

    fn render_requests(&self, e: &mut Exposition) {
        let mut counts: Vec<(RequestKey, u64)> = match self.requests.lock() {
            Ok(r) => r.iter().map(|(k, v)| (*k, *v)).collect(),
            Err(_) => Vec::new(),
        };
        counts.sort_unstable();
        e.family(
            "jobboard_http_requests_total",
            "counter",
            "HTTP requests answered, by route pattern, method and status.",
        );
        for ((route, method, status), n) in counts {
            let status = status.to_string();
            let labels = [
                ("route", routes::label(route as usize)),
                ("method", METHODS[method as usize]),
                ("status", status.as_str()),
            ];
            e.sample("jobboard_http_requests_total", &labels, n);
        }
        e.family(
            "jobboard_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its response's head, by route pattern.",
        );
        for (route, h) in self.durations.iter().enumerate() {
            if !h.is_empty() {
                e.histogram(
                    "jobboard_http_request_duration_seconds",
                    &[("route", routes::label(route))],
                    &h.snapshot(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_bounded() {
        assert_eq!(METHODS[method_index(&Method::GET) as usize], "GET");
        assert_eq!(METHODS[method_index(&Method::DELETE) as usize], "DELETE");
        let odd = Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(METHODS[method_index(&odd) as usize], "other");
    }

    #[test]
    fn requests_are_counted_by_label() {
        let m = Metrics::new();
        let jobs = routes::classify("/jobs/1-a");
        m.request(jobs, &Method::GET, 200, Duration::from_millis(3));
        m.request(
            routes::classify("/jobs/2-b"),
            &Method::GET,
            200,
            Duration::from_millis(3),
        );
        m.request(
            routes::classify("/nope"),
            &Method::GET,
            404,
            Duration::from_micros(10),
        );
        let text = m.render(&Gauges::default());
        assert!(
            text.contains(
                "jobboard_http_requests_total{route=\"/jobs/:id_slug\",method=\"GET\",status=\"200\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("route=\"other\",method=\"GET\",status=\"404\"} 1\n"),
            "{text}"
        );
        assert!(text.contains(
            "jobboard_http_request_duration_seconds_count{route=\"/jobs/:id_slug\"} 2\n"
        ));
    }

    #[test]
    fn the_worker_is_absent_until_it_beats() {
        let m = Metrics::new();
        assert_eq!(m.worker_idle(), None);
        m.worker_active();
        assert!(m.worker_idle().is_some());
    }
}
