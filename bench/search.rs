//! In-process search benchmark (see bench/README.md and shared BENCH.md,
//! "Search inside the process").
//!
//! On a board of `--jobs` demo jobs plus the real postings of
//! `../shared/data/openings.jsonl` it measures:
//!
//! - a full Tantivy index build (median of `--runs`), in jobs per second, with
//!   the writer's memory budget;
//! - `--queries` fixed, deterministic queries made from the titles and tags in
//!   the database, timed one by one through `Search::find` (what the pages
//!   call: top 20, count, facets, the 20 rows loaded from SQLite by primary key
//!   and highlighted snippets), with facets on and off, and through Tantivy
//!   alone (top 20 ids and the count);
//! - the same queries on SQLite FTS5 over the same documents (bm25 ranking),
//!   in a separate `fts.db`, as the embedded alternative.
//!
//! Usage: `search-bench [--data-dir DIR] [--jobs N] [--queries N] [--runs N]`
//!
//! Run: `cargo run --release --example search-bench`.

#![forbid(unsafe_code)]

use jobboard::search::Want;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jobboard::search::query::SearchParams;
use jobboard::search::schema::Fields;
use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::ColumnValues;
use tantivy::{DocId, Score, SegmentReader};

type Res<T> = Result<T, Box<dyn Error>>;

const USAGE: &str = "usage: search-bench [--data-dir DIR] [--jobs N] [--queries N] [--runs N]

  --data-dir DIR  board to use or create (default /tmp/jobboard-search-bench);
                  delete DIR/jobboard.db to regenerate, DIR/fts.db to rebuild FTS5
  --jobs N        demo jobs when the board is created (default 100000)
  --queries N     queries to time (default 1000)
  --runs N        full index builds to time; the median is reported (default 3)
  -h, --help      print this help";

/// Command-line options, parsed by hand.
struct Options {
    data_dir: PathBuf,
    jobs: usize,
    queries: usize,
    runs: usize,
}

fn parse_args() -> Res<Option<Options>> {
    let mut o = Options {
        data_dir: PathBuf::from("/tmp/jobboard-search-bench"),
        jobs: 100_000,
        queries: 1_000,
        runs: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            return Ok(None);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"))?;
        let number = || -> Res<usize> {
            value
                .parse::<usize>()
                .map_err(|_| format!("{arg}: {value:?} is not a whole number").into())
        };
        match arg.as_str() {
            "--data-dir" => o.data_dir = PathBuf::from(&value),
            "--jobs" => o.jobs = number()?,
            "--queries" => o.queries = number()?.max(1),
            "--runs" => o.runs = number()?.max(1),
            _ => return Err(format!("unknown argument {arg}\n\n{USAGE}").into()),
        }
    }
    Ok(Some(o))
}

/// What kind of query, for the breakdown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    TwoWords,
    Typo,
    Filtered,
}

const KINDS: [Kind; 4] = [Kind::Word, Kind::TwoWords, Kind::Typo, Kind::Filtered];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Word => "one word",
            Kind::TwoWords => "two words",
            Kind::Typo => "one word, one typo",
            Kind::Filtered => "word + 1–2 filters",
        }
    }
}

/// One benchmark query.
struct Query {
    kind: Kind,
    /// Made from a real posting (non-ASCII title) rather than a demo job.
    real: bool,
    /// The words, as typed.
    text: String,
    /// The filters, as `(name, value)` pairs.
    filters: Vec<(&'static str, String)>,
    params: SearchParams,
}

/// A job as the query generator sees it.
struct Row {
    title: String,
    tags: Vec<String>,
    category: String,
    remote: Vec<String>,
}

fn rows(db: &jobboard::db::Db, sql: &'static str) -> Res<Vec<Row>> {
    let raw: Vec<(String, String, String, String)> = db.read_blocking(|c| {
        let mut stmt = c.prepare(sql)?;
        let out = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(out)
    })?;
    let mut out = Vec::with_capacity(raw.len());
    for (title, tags, category, remote) in raw {
        out.push(Row {
            title,
            tags: serde_json::from_str(&tags)?,
            category,
            remote: serde_json::from_str(&remote)?,
        });
    }
    Ok(out)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// The words of a title, lower-cased: runs of letters and digits of two
/// characters or more. A long run of CJK characters (written without spaces)
/// gives a piece of 2–3 characters of it, as a user would type.
fn words(title: &str, rng: &mut fastrand::Rng) -> Vec<String> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| {
            let chars: Vec<char> = w.chars().collect();
            if chars.len() > 3 && chars.iter().all(|c| is_cjk(*c)) {
                let len = rng.usize(2..=3);
                let start = rng.usize(..=chars.len() - len);
                chars[start..start + len].iter().collect()
            } else {
                w.to_lowercase()
            }
        })
        .collect()
}

/// A word with one letter changed (words of six ASCII letters or more).
fn typo(word: &str, rng: &mut fastrand::Rng) -> Option<String> {
    if word.len() < 6 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let mut bytes = word.as_bytes().to_vec();
    let at = rng.usize(..bytes.len());
    let mut c = bytes[at];
    while c == bytes[at] {
        c = rng.u8(b'a'..=b'z');
    }
    bytes[at] = c;
    String::from_utf8(bytes).ok()
}

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.usize(..items.len()))
    }
}

/// Makes `n` queries: 40 % one word, 25 % two adjacent words, 10 % one word
/// with a typo, 25 % a word and one or two filters taken from the same job (so
/// they can match). A quarter of the one- and two-word queries come from the
/// real postings with non-ASCII titles (Portuguese, Chinese, Vietnamese…),
/// preferring their non-ASCII words.
fn make_queries(
    n: usize,
    demo: &[Row],
    real: &[Row],
    config: &jobboard::config::Config,
) -> Res<Vec<Query>> {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut out = Vec::with_capacity(n);
    let mut attempts = 0usize;
    while out.len() < n {
        attempts += 1;
        if attempts > n * 100 {
            return Err("could not make enough queries from the database's titles".into());
        }
        let roll = rng.u8(..100);
        let kind = match roll {
            0..=39 => Kind::Word,
            40..=64 => Kind::TwoWords,
            65..=74 => Kind::Typo,
            _ => Kind::Filtered,
        };
        let from_real =
            matches!(kind, Kind::Word | Kind::TwoWords) && !real.is_empty() && rng.u8(..4) == 0;
        let pool = if from_real { real } else { demo };
        let Some(row) = pick(&mut rng, pool) else {
            return Err("the board has no jobs to make queries from".into());
        };
        let ws = words(&row.title, &mut rng);
        if ws.is_empty() {
            continue;
        }
        let mut filters: Vec<(&'static str, String)> = Vec::new();
        let text = match kind {
            Kind::Word => {
                let wide: Vec<String> = ws.iter().filter(|w| !w.is_ascii()).cloned().collect();
                let from = if from_real && !wide.is_empty() {
                    &wide
                } else {
                    &ws
                };
                match pick(&mut rng, from) {
                    Some(w) => w.clone(),
                    None => continue,
                }
            }
            Kind::TwoWords => {
                if ws.len() < 2 {
                    continue;
                }
                let at = rng.usize(..ws.len() - 1);
                format!("{} {}", ws[at], ws[at + 1])
            }
            Kind::Typo => {
                let long: Vec<&String> = ws.iter().filter(|w| w.len() >= 6).collect();
                match pick(&mut rng, &long).and_then(|w| typo(w, &mut rng)) {
                    Some(t) => t,
                    None => continue,
                }
            }
            Kind::Filtered => {
                let Some(w) = pick(&mut rng, &ws) else {
                    continue;
                };
                let mut dims = vec!["category", "remote", "tag"];
                rng.shuffle(&mut dims);
                dims.truncate(rng.usize(1..=2));
                for d in dims {
                    let value = match d {
                        "category" => Some(row.category.clone()),
                        "remote" => pick(&mut rng, &row.remote).cloned(),
                        _ => pick(&mut rng, &row.tags).cloned(),
                    };
                    if let Some(v) = value {
                        filters.push((d, v));
                    }
                }
                if filters.is_empty() {
                    continue;
                }
                w.clone()
            }
        };
        let mut pairs: Vec<(&str, &str)> = vec![("q", text.as_str())];
        pairs.extend(filters.iter().map(|(k, v)| (*k, v.as_str())));
        let params = SearchParams::from_pairs(pairs, &config.site.categories, false)
            .map_err(|e| format!("query {text:?}: {e:?}"))?;
        out.push(Query {
            kind,
            real: from_real,
            text,
            filters,
            params,
        });
    }
    Ok(out)
}

/// Latencies of one engine, in the order of the queries.
struct Timings {
    engine: String,
    micros: Vec<f64>,
    /// Queries that found nothing.
    zero: Vec<bool>,
    /// Hits per query (capped at 20 where only the top 20 is asked for).
    hits: Vec<usize>,
    errors: usize,
}

impl Timings {
    fn new(engine: &str) -> Timings {
        Timings {
            engine: engine.to_string(),
            micros: Vec::new(),
            zero: Vec::new(),
            hits: Vec::new(),
            errors: 0,
        }
    }

    fn push(&mut self, took: Duration, hits: usize) {
        self.micros.push(took.as_secs_f64() * 1e6);
        self.zero.push(hits == 0);
        self.hits.push(hits);
    }

    fn row(&self) -> String {
        let s = Stats::of(self.micros.iter().copied());
        let zero = self.zero.iter().filter(|z| **z).count();
        let errors = if self.errors > 0 {
            format!(" ({} errors)", self.errors)
        } else {
            String::new()
        };
        format!(
            "| {} | {}{errors} | {:.0} | {:.0} | {:.0} | {:.0} | {zero} |",
            self.engine,
            self.micros.len(),
            s.p50,
            s.p90,
            s.p99,
            s.max
        )
    }

    /// p50 over the queries that `keep` selects.
    fn p50_of(&self, queries: &[Query], keep: impl Fn(&Query) -> bool) -> (usize, f64, usize) {
        let picked: Vec<usize> = (0..self.micros.len().min(queries.len()))
            .filter(|i| keep(&queries[*i]))
            .collect();
        let s = Stats::of(picked.iter().map(|i| self.micros[*i]));
        let zero = picked.iter().filter(|i| self.zero[**i]).count();
        (picked.len(), s.p50, zero)
    }
}

/// Selects queries for a line of the breakdown.
type Filter = Box<dyn Fn(&Query) -> bool>;

struct Stats {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

impl Stats {
    /// Nearest-rank percentiles.
    fn of(values: impl Iterator<Item = f64>) -> Stats {
        let mut v: Vec<f64> = values.collect();
        v.sort_by(f64::total_cmp);
        let at = |p: f64| -> f64 {
            if v.is_empty() {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[rank.clamp(1, v.len()) - 1]
        };
        Stats {
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: at(100.0),
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

// Tantivy alone: the same query and ranking key as `Search::find` (featured,
// score, newest, id), top 20 and the count, no facets, rows or snippets.

type U64s = Arc<dyn ColumnValues<u64>>;
type I64s = Arc<dyn ColumnValues<i64>>;

struct ByRelevance;

struct Keys {
    featured: U64s,
    published: I64s,
    id: U64s,
}

impl tantivy::collector::ScoreTweaker<(u64, Score, i64, u64)> for ByRelevance {
    type Child = Keys;
    fn segment_tweaker(&self, seg: &SegmentReader) -> tantivy::Result<Keys> {
        let ff = seg.fast_fields();
        Ok(Keys {
            featured: ff.u64("featured")?.first_or_default_col(0),
            published: ff.i64("published_at")?.first_or_default_col(0),
            id: ff.u64("id")?.first_or_default_col(0),
        })
    }
}

impl tantivy::collector::ScoreSegmentTweaker<(u64, Score, i64, u64)> for Keys {
    fn score(&mut self, doc: DocId, score: Score) -> (u64, Score, i64, u64) {
        (
            self.featured.get_val(doc),
            score,
            self.published.get_val(doc),
            self.id.get_val(doc),
        )
    }
}

/// How much of `find`'s search work "tantivy alone" does.
#[derive(Clone, Copy)]
enum Bare {
    /// The same query and ranking as `find`: top 20 and the count.
    Full,
    /// Top 20 by score only: no count, no featured/newest key, so Tantivy may
    /// skip blocks of documents that cannot make the top 20.
    TopOnly,
}

struct Core {
    reader: tantivy::IndexReader,
    fields: Fields,
}

impl Core {
    fn open(dir: &Path) -> Res<Core> {
        let index = tantivy::Index::open_in_dir(dir)?;
        jobboard::search::schema::register(&index);
        let fields = jobboard::search::schema::fields_of(&index)?;
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        Ok(Core { reader, fields })
    }

    /// Returns the number of hits (at most 20 with [`Bare::TopOnly`]).
    fn find(&self, p: &SearchParams, now: i64, bare: Bare) -> Res<usize> {
        let searcher = self.reader.searcher();
        let query = jobboard::search::query::build(p, &self.fields, now, None, &searcher);
        match bare {
            Bare::Full => {
                let top = TopDocs::with_limit(20).tweak_score(ByRelevance);
                let (hits, total) = searcher.search(&*query, &(top, Count))?;
                std::hint::black_box(hits);
                Ok(total)
            }
            Bare::TopOnly => {
                let hits = searcher.search(&*query, &TopDocs::with_limit(20))?;
                Ok(std::hint::black_box(hits).len())
            }
        }
    }
}

/// What the search pages ask of `find`.
const PAGE: Want = Want {
    facets: true,
    snippets: true,
};

// SQLite FTS5.

/// The MATCH expression: every word quoted (`"` doubled) and ANDed.
fn fts_match(text: &str) -> String {
    text.split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

const FTS_QUERY: &str = "SELECT rowid FROM jobs_fts WHERE jobs_fts MATCH ?1 \
     ORDER BY bm25(jobs_fts, 3.0, 2.0, 3.0, 1.0) LIMIT 20";

/// The FTS5 side, or why there is none.
enum Fts {
    /// The connection, and the build's time and rows (`None`: it was there).
    Ready(rusqlite::Connection, Option<(Duration, i64)>),
    Unavailable(String),
}

/// Opens `fts.db`, building its table from the board when missing.
fn open_fts(path: &Path, board: &Path) -> Res<Fts> {
    let conn = rusqlite::Connection::open(path)?;
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'jobs_fts'",
        [],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(Fts::Ready(conn, None));
    }
    if let Err(e) = conn.execute_batch(
        "CREATE VIRTUAL TABLE jobs_fts USING fts5(title, company, tags, description, \
         tokenize='unicode61 remove_diacritics 2')",
    ) {
        drop(conn);
        let _ = std::fs::remove_file(path);
        return Ok(Fts::Unavailable(format!(
            "CREATE VIRTUAL TABLE … USING fts5 failed: {e}"
        )));
    }
    let started = Instant::now();
    conn.execute("ATTACH DATABASE ?1 AS board", [board.to_string_lossy()])?;
    conn.execute_batch("BEGIN")?;
    let rows = conn.execute(
        "INSERT INTO jobs_fts (rowid, title, company, tags, description)
         SELECT j.id, j.title, c.name,
                (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(j.tags)),
                j.description
         FROM board.jobs j JOIN board.companies c ON c.id = j.company_id
         WHERE j.status = 'published' AND j.deleted_at IS NULL",
        [],
    )?;
    conn.execute_batch("COMMIT")?;
    conn.execute_batch("DETACH DATABASE board")?;
    // Merge the b-trees, as a finished build would.
    conn.execute_batch("INSERT INTO jobs_fts (jobs_fts) VALUES ('optimize')")?;
    Ok(Fts::Ready(conn, Some((started.elapsed(), rows as i64))))
}

fn fts_search(stmt: &mut rusqlite::Statement<'_>, expr: &str) -> rusqlite::Result<usize> {
    let ids = stmt
        .query_map([expr], |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(std::hint::black_box(ids).len())
}

fn memory() -> Vec<(String, String)> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    ["VmHWM", "RssAnon", "RssFile"]
        .iter()
        .map(|k| {
            let v = status
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}:")))
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| "?".into());
            (k.to_string(), v)
        })
        .collect()
}

fn main() -> Res<()> {
    let Some(o) = parse_args()? else {
        return Ok(());
    };
    let dir = o.data_dir.as_path();
    std::fs::create_dir_all(dir)?;
    let config = jobboard::config::Config::for_data_dir(dir);
    let clock: jobboard::clock::SharedClock = Arc::new(jobboard::clock::SystemClock);

    // 1. The board.
    let fresh = !config.db_path().exists();
    let db = jobboard::db::Db::open(&config.db_path())?;
    if fresh {
        let started = Instant::now();
        let made = jobboard::demo::fill(&db, &config, &clock, o.jobs, |_| {})?;
        println!(
            "demo fill: {made} jobs in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let openings = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/openings.jsonl");
        match std::fs::File::open(&openings) {
            Ok(file) => {
                let report = jobboard::jobs::transfer::import(
                    &db,
                    &config,
                    &clock,
                    std::io::BufReader::new(file),
                    |_| {},
                    |_, _| {},
                )?;
                println!(
                    "imported {} real postings from {} ({} lines refused)",
                    report.imported,
                    openings.display(),
                    report.skipped.len()
                );
            }
            Err(e) => println!(
                "no real postings: {} ({e}); the corpus is demo text only",
                openings.display()
            ),
        }
    } else {
        println!(
            "using the existing board in {} (delete jobboard.db to regenerate)",
            dir.display()
        );
    }
    let (published, live): (i64, i64) = db.read_blocking(|c| {
        Ok(c.query_row(
            "SELECT count(*), count(*) FILTER (WHERE expires_at > unixepoch())
             FROM jobs WHERE status = 'published' AND deleted_at IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    })?;
    println!("board: {published} published jobs, {live} not expired");

    // 2. Index builds.
    let bench_dir = dir.join("index.bench");
    let mut build_secs = Vec::new();
    let mut docs = 0;
    for run in 1..=o.runs {
        let started = Instant::now();
        docs = jobboard::search::rebuild::build(&bench_dir, &db, |_, _| {})?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "index build {run}/{}: {docs} docs in {secs:.2} s ({:.0} docs/s)",
            o.runs,
            docs as f64 / secs
        );
        build_secs.push(secs);
    }
    let build_secs = median(build_secs);
    jobboard::search::rebuild::swap(&dir.join("index"), &bench_dir)?;

    // 3. The engine, as `serve` opens it.
    let search = jobboard::search::Search::new(dir);
    let mut core =
        jobboard::search::indexer::IndexerCore::open(search.clone(), db.clone(), clock.clone())?;
    core.ensure()?;
    if !search.is_ready() {
        return Err("the search engine is not ready after ensure()".into());
    }
    let tantivy_only = Core::open(search.dir())?;

    // 4. Queries.
    let demo = rows(
        &db,
        "SELECT title, tags, category, remote FROM jobs ORDER BY id LIMIT 5000",
    )?;
    let real: Vec<Row> = rows(
        &db,
        "SELECT title, tags, category, remote FROM jobs
         WHERE status = 'published' AND deleted_at IS NULL ORDER BY id",
    )?
    .into_iter()
    .filter(|r| !r.title.is_ascii())
    .collect();
    let queries = make_queries(o.queries, &demo, &real, &config)?;
    let count = |k: Kind| queries.iter().filter(|q| q.kind == k).count();
    println!(
        "queries: {} ({} one word, {} two words, {} typo, {} filtered; {} from real non-ASCII titles, {} with non-ASCII words)",
        queries.len(),
        count(Kind::Word),
        count(Kind::TwoWords),
        count(Kind::Typo),
        count(Kind::Filtered),
        queries.iter().filter(|q| q.real).count(),
        queries.iter().filter(|q| !q.text.is_ascii()).count(),
    );
    let wide = queries.iter().filter(|q| !q.text.is_ascii());
    let sample = queries.iter().step_by((queries.len() / 10).max(1)).take(10);
    for q in sample.chain(wide.step_by(25).take(5)) {
        let filters: Vec<String> = q.filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  e.g. {:?} {}", q.text, filters.join(" "));
    }

    // 5. Tantivy through `Search::find`, and alone.
    let now = clock.unix();
    for q in &queries {
        search.find(&db, &q.params, now, PAGE)?;
        search.find(&db, &q.params, now, Want::default())?;
        tantivy_only.find(&q.params, now, Bare::Full)?;
    }
    let mut with_facets = Timings::new("tantivy `find` as pages (facets + snippets)");
    let mut no_facets = Timings::new("tantivy `find`, rows only (no facets, no snippets)");
    let mut alone = Timings::new("tantivy alone (top 20 + count)");
    for (want, t) in [(PAGE, &mut with_facets), (Want::default(), &mut no_facets)] {
        for q in &queries {
            let started = Instant::now();
            let found = search.find(&db, &q.params, now, want)?;
            let took = started.elapsed();
            t.push(took, found.map(|f| f.total).unwrap_or(0));
        }
    }
    for q in &queries {
        let started = Instant::now();
        let hits = tantivy_only.find(&q.params, now, Bare::Full)?;
        alone.push(started.elapsed(), hits);
    }
    // Where the time goes: the same words quoted, which turns off the typo
    // expansion (a fuzzy term query per word of 5+ letters in each text field),
    // then also without the count and the featured/newest ranking key.
    let quoted: Vec<SearchParams> = queries
        .iter()
        .map(|q| {
            let mut p = q.params.clone();
            p.q = fts_match(&q.text);
            p
        })
        .collect();
    let mut no_typo = Timings::new("… words quoted (no typo expansion)");
    let mut top_only = Timings::new("… words quoted, top 20 by score only (no count)");
    for (bare, t) in [(Bare::Full, &mut no_typo), (Bare::TopOnly, &mut top_only)] {
        for p in &quoted {
            tantivy_only.find(p, now, bare)?;
        }
        for p in &quoted {
            let started = Instant::now();
            let hits = tantivy_only.find(p, now, bare)?;
            t.push(started.elapsed(), hits);
        }
    }

    // 6. FTS5.
    let fts_path = dir.join("fts.db");
    let mut fts = Timings::new("sqlite fts5 bm25 (top 20 rowids)");
    let mut fts_build: Option<String> = None;
    let mut fts_note: Option<String> = None;
    match open_fts(&fts_path, &config.db_path())? {
        Fts::Unavailable(why) => fts_note = Some(why),
        Fts::Ready(conn, built) => {
            fts_build = Some(match built {
                Some((took, rows)) => format!(
                    "{rows} docs in {:.2} s ({:.0} docs/s, incl. 'optimize')",
                    took.as_secs_f64(),
                    rows as f64 / took.as_secs_f64()
                ),
                None => format!("reused {} (delete it to time a build)", fts_path.display()),
            });
            let mut stmt = conn.prepare(FTS_QUERY)?;
            let exprs: Vec<String> = queries.iter().map(|q| fts_match(&q.text)).collect();
            for e in &exprs {
                let _ = fts_search(&mut stmt, e);
            }
            for e in &exprs {
                let started = Instant::now();
                match fts_search(&mut stmt, e) {
                    Ok(hits) => fts.push(started.elapsed(), hits),
                    Err(err) => {
                        fts.errors += 1;
                        fts.push(started.elapsed(), 0);
                        if fts.errors <= 3 {
                            println!("fts5 error on {e:?}: {err}");
                        }
                    }
                }
            }
        }
    }

    // 7. Memory.
    let mem = memory();

    // 8. Report.
    println!();
    println!(
        "## Search inside the process: {} queries on {docs} jobs",
        queries.len()
    );
    println!();
    println!("| engine | queries | p50 µs | p90 µs | p99 µs | max µs | no hits |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!("{}", with_facets.row());
    println!("{}", no_facets.row());
    println!("{}", alone.row());
    println!("{}", no_typo.row());
    println!("{}", top_only.row());
    if fts_note.is_none() {
        println!("{}", fts.row());
    }
    println!();
    println!("p50 µs by kind of query (no hits in brackets):");
    println!();
    println!(
        "| kind | queries | tantivy find, facets | tantivy find, no facets | tantivy alone | fts5 |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let kinds: Vec<(String, Filter)> = KINDS
        .iter()
        .map(|k| {
            let k = *k;
            (
                k.label().to_string(),
                Box::new(move |q: &Query| q.kind == k) as Filter,
            )
        })
        .chain([(
            "non-ASCII words".to_string(),
            Box::new(|q: &Query| !q.text.is_ascii()) as Filter,
        )])
        .collect();
    for (label, keep) in &kinds {
        let mut line = format!("| {label} |");
        let (n, _, _) = with_facets.p50_of(&queries, keep);
        line.push_str(&format!(" {n} |"));
        for t in [&with_facets, &no_facets, &alone, &fts] {
            if t.micros.is_empty() {
                line.push_str(" – |");
            } else {
                let (_, p50, zero) = t.p50_of(&queries, keep);
                line.push_str(&format!(" {p50:.0} ({zero}) |"));
            }
        }
        println!("{line}");
    }
    println!();
    println!(
        "- index build: {docs} docs, median of {} builds {build_secs:.2} s, {:.0} docs/s, \
         writer budget {} MB, 1 indexing thread",
        o.runs,
        docs as f64 / build_secs,
        jobboard::search::rebuild::BUILD_BUDGET >> 20
    );
    match (&fts_build, &fts_note) {
        (_, Some(why)) => println!("- fts5: NOT MEASURED: {why}"),
        (Some(b), None) => println!("- fts5 build: {b}"),
        _ => {}
    }
    let totals = Stats::of(alone.hits.iter().map(|h| *h as f64));
    println!(
        "- hits per query (tantivy count, of {docs} jobs): p50 {:.0}, p90 {:.0}, max {:.0}",
        totals.p50, totals.p90, totals.max
    );
    let tantivy_p50 = Stats::of(with_facets.micros.iter().copied()).p50;
    let bare_p50 = Stats::of(alone.micros.iter().copied()).p50;
    let fts_p50 = Stats::of(fts.micros.iter().copied()).p50;
    if fts_note.is_none() {
        println!(
            "- ratio of p50s: tantivy `find` (facets) / fts5 = {:.2}; tantivy alone / fts5 = {:.2}",
            tantivy_p50 / fts_p50,
            bare_p50 / fts_p50
        );
    }
    let mem: Vec<String> = mem.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "- memory after the queries (whole process, incl. the builds and FTS5): {}",
        mem.join(", ")
    );
    println!(
        "- `find` = what the pages run: top 20 by (featured, score, newest, id) + count \
         (+ facet counts), then the 20 rows loaded from SQLite by primary key and a highlighted \
         snippet made for each of them. \"tantivy alone\" is the same query and ranking, top 20 + count only."
    );
    println!(
        "- fts5 returns 20 rowids only (no rows, no snippets, no count), runs the text part only \
         (it has no filters here, which flatters it), matches whole tokens only (no typo \
         tolerance, and a run of CJK characters is one token) and does not check expiry."
    );
    println!(
        "- one thread, queries one after another, each timed alone after one warm-up pass; \
         release build, `{}`.",
        dir.display()
    );
    drop(core);
    db.close();
    Ok(())
}
