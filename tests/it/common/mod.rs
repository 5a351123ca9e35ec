//! The test harness: a real board on a real SQLite file in a temp dir, driven
//! over HTTP through poem's test client, with a clock the test moves.

pub mod browser;
pub mod mail;
pub mod served;
pub mod smtp;
pub mod stripe;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use jobboard::clock::{Clock, ManualClock};
use jobboard::config::{Config, Inputs};
use jobboard::jobs::input::JobInput;
use jobboard::jobs::store::Placement;
use jobboard::search::indexer::IndexerCore;
use jobboard::web::State;
use poem::endpoint::BoxEndpoint;
use poem::test::{TestClient, TestResponse};
use poem::{EndpointExt, Response};
use serde_json::{Value, json};

/// 2026-11-27T09:00:00Z: the tests' "now" until they move it.
pub const NOW: i64 = 1_795_770_000;

pub struct TestApp {
    pub _dir: tempfile::TempDir,
    pub state: State,
    pub clock: Arc<ManualClock>,
    pub http: TestClient<BoxEndpoint<'static, Response>>,
    /// The indexer, driven by the test instead of a thread.
    pub indexer: Mutex<Option<IndexerCore>>,
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with_env(&[])
    }

    /// A board whose configuration has these `JOBBOARD_*` variables.
    pub fn with_env(env: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inputs = Inputs {
            config_file: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            flags: vec![("data_dir", dir.path().display().to_string())],
        };
        inputs
            .env
            .entry("JOBBOARD_BASE_URL".into())
            .or_insert_with(|| "https://board.example".into());
        let config = Config::load(&inputs).expect("test config");
        let clock = ManualClock::at(NOW);
        let state = jobboard::open(config, clock.clone()).expect("open board");
        let http = TestClient::new(jobboard::web::app(state.clone()).map_to_response().boxed());
        let mut indexer = IndexerCore::open(state.search.clone(), state.db.clone(), clock.clone())
            .expect("index opens");
        indexer.ensure().expect("index built");
        TestApp {
            _dir: dir,
            state,
            clock,
            http,
            indexer: Mutex::new(Some(indexer)),
        }
    }

    /// Applies the search queue to the index, as the indexer in `serve` does
    /// at least every quarter second; returns how many rows it applied.
    pub fn index(&self) -> usize {
        let mut guard = self.indexer.lock().expect("indexer");
        let core = guard.as_mut().expect("indexer running");
        let mut n = 0;
        loop {
            let applied = core.drain().expect("drain");
            if applied == 0 {
                return n;
            }
            n += applied;
        }
    }

    /// Stops the indexer (as a process exit would), lets `damage` act on the
    /// index directory, and opens a new indexer without rebuilding yet;
    /// returns whether the index opened as it was.
    pub fn restart_indexer(&self, damage: impl FnOnce(&std::path::Path)) -> bool {
        let mut guard = self.indexer.lock().expect("indexer");
        guard.take();
        damage(&self._dir.path().join("index"));
        let core = IndexerCore::open(
            self.state.search.clone(),
            self.state.db.clone(),
            self.clock.clone(),
        )
        .expect("indexer opens");
        let ready = core.ready();
        *guard = Some(core);
        ready
    }

    /// Rebuilds the index if needed and applies the queue, as the indexer
    /// thread does at start.
    pub fn ensure_index(&self) {
        let mut guard = self.indexer.lock().expect("indexer");
        guard.as_mut().expect("indexer").ensure().expect("ensure");
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.http.get(path).send().await
    }

    /// Adds a job through the same validation and store as `import`; `fields`
    /// override a complete, valid job. Returns its id.
    pub async fn add_job(&self, fields: Value) -> i64 {
        let id = self.add_job_unindexed(fields).await;
        self.index();
        id
    }

    /// Adds a job without applying the search queue.
    pub async fn add_job_unindexed(&self, fields: Value) -> i64 {
        let mut job = json!({
            "title": "Senior Rust Engineer",
            "company": {"name": "Acme Widgets", "website": "https://acme.example"},
            "description": "## The role\n\nBuild **fast** things.",
            "category": "Software Development",
            "job_type": "full_time",
            "tags": ["rust", "postgresql"],
            "remote": ["europe"],
            "salary_min": 90000, "salary_max": 120000, "salary_currency": "EUR", "salary_period": "year",
            "apply_url": "https://acme.example/apply"
        });
        if let (Some(base), Some(extra)) = (job.as_object_mut(), fields.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        let input: JobInput = serde_json::from_value(job).expect("job shape");
        let new = input
            .validate(&self.state.config.site.categories)
            .expect("valid job");
        let now = self.clock.unix();
        let days = self.state.config.posting.duration_days;
        self.state
            .db
            .write(move |tx| {
                let placement: Placement = jobboard::jobs::imported_placement(&new, days, now);
                jobboard::jobs::create(tx, &new, placement, now)
            })
            .await
            .expect("stored")
    }

    /// Adds a job owned by a user, in `status` (published now for the
    /// board's duration when published); `fields` override a valid job.
    pub async fn add_owned_job(&self, owner: i64, status: &str, fields: Value) -> i64 {
        let mut job = json!({
            "title": "Owned Role",
            "company": {"name": "Owner Co", "website": "https://owner.example"},
            "description": "An owned **role**.",
            "category": "Data",
            "job_type": "full_time",
            "remote": ["worldwide"],
            "apply_url": "https://owner.example/apply"
        });
        if let (Some(base), Some(extra)) = (job.as_object_mut(), fields.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        let status = jobboard::jobs::model::Status::parse(status).expect("a status");
        let placement = if status == jobboard::jobs::model::Status::Published {
            jobboard::jobs::owned::published_now(&self.state.config, self.clock.unix())
        } else {
            Placement {
                status,
                published_at: None,
                expires_at: None,
            }
        };
        let id = self.store_owned_job(owner, job, placement).await;
        self.index();
        id
    }

    /// Stores a complete job (as JSON input) for an owner in `placement`,
    /// through the same validation and store as the posting flow; not indexed.
    pub async fn store_owned_job(&self, owner: i64, job: Value, placement: Placement) -> i64 {
        let input: JobInput = serde_json::from_value(job).expect("job shape");
        let new = input
            .validate(&self.state.config.site.categories)
            .expect("valid job");
        let config = self.state.config.clone();
        let now = self.clock.unix();
        self.state
            .db
            .write(move |tx| {
                let user = jobboard::accounts::store::by_id(tx, owner)?;
                jobboard::jobs::owned::create(tx, &config, &user, &new, placement, now)
            })
            .await
            .expect("stored")
    }

    /// Writes buffered view and click counts, as `serve` does every two seconds.
    pub async fn flush_counters(&self) {
        self.state
            .counters
            .flush(&self.state.db)
            .await
            .expect("flush");
    }

    /// Creates an account directly (as `admin create` would for an admin),
    /// with the tests' password and a verified email; returns its id.
    pub async fn create_user(&self, email: &str, admin: bool) -> i64 {
        let hash = jobboard::accounts::password::hash(browser::PASSWORD.into())
            .await
            .expect("hash");
        let email = email.to_string();
        let now = self.clock.unix();
        self.state
            .db
            .write(move |tx| {
                let role = if admin {
                    jobboard::accounts::Role::Admin
                } else {
                    jobboard::accounts::Role::Employer
                };
                Ok(
                    jobboard::accounts::store::create_user(tx, &email, &hash, role, true, now)?
                        .expect("new account"),
                )
            })
            .await
            .expect("user stored")
    }

    /// Runs the background work due at the test clock's now, as the worker
    /// in `serve` would; returns how many tasks ran.
    pub fn run_pending_tasks(&self) -> usize {
        jobboard::tasks::run_due(&self.state, "test-worker").expect("tasks run")
    }

    /// Every email sent so far, oldest first (running queued mail first).
    pub fn emails(&self) -> Vec<mail::Mail> {
        self.run_pending_tasks();
        mail::read_outbox(&self._dir.path().join("outbox"))
    }

    /// One integer from the database.
    pub async fn scalar(&self, sql: &'static str, id: i64) -> i64 {
        self.state
            .db
            .read(move |c| Ok(c.query_row(sql, [id], |r| r.get(0))?))
            .await
            .expect("query")
    }
}

pub async fn text(resp: TestResponse) -> String {
    resp.0.into_body().into_string().await.expect("body")
}

pub async fn json_body(resp: TestResponse) -> Value {
    serde_json::from_str(&text(resp).await).expect("json body")
}

/// The `jobboard` binary built for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jobboard"))
}

/// Runs the binary with these arguments and environment, in `cwd`.
pub fn run(
    cwd: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> Output {
    use std::io::Write;
    let mut cmd = bin();
    cmd.current_dir(cwd).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn jobboard");
    if let Some(mut input) = child.stdin.take() {
        if let Some(bytes) = stdin {
            input.write_all(bytes).expect("stdin");
        }
    }
    child.wait_with_output().expect("wait")
}

/// The repository's own test data.
pub fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Polls `check` until it gives a value (work done after a response, such as
/// a mail sent in the background), for at most five seconds.
pub async fn eventually<T>(check: impl Fn() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "gave up waiting"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Keeps a rendered page for the HTML check when `JOBBOARD_TEST_PAGES`
/// names a folder: pages only a test can reach (a paid board on a local
/// Stripe) are validated with the rest (`e2e/html-check.sh`).
pub fn keep_page(name: &str, html: &str) {
    if let Some(dir) = std::env::var_os("JOBBOARD_TEST_PAGES") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("pages folder");
        std::fs::write(dir.join(format!("{name}.html")), html).expect("page kept");
    }
}
