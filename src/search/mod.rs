//! Full-text search over Tantivy (SPEC §6): one index, one reader for the whole
//! process, one writer owned by the indexer in `serve`. The database stays the
//! truth: changes reach the index through the search queue, and the index can
//! always be rebuilt from the database.

pub mod facets;
pub mod indexer;
pub mod query;
pub mod queue;
pub mod rebuild;
pub mod schema;
pub mod tokenizer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::ColumnValues;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocId, Index, IndexReader, Score, SegmentReader};

use crate::db::Db;
use crate::error::AppError;
use crate::jobs::model::{Job, Region};
use facets::FacetCollector;
use query::{Dim, SearchParams, Sort};
use schema::Fields;

/// An open index and its reader.
pub struct Live {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
}

/// The search engine as the rest of the board sees it.
pub struct Search {
    dir: PathBuf,
    live: RwLock<Option<Arc<Live>>>,
    generation: AtomicU64,
    /// Totals and facet counts by search (without page or sort), for the index
    /// generation they were counted in: every page of one search shares them.
    tallies: std::sync::Mutex<std::collections::HashMap<String, Tally>>,
}

/// A search's total and facet counts, as counted at `at` in `generation`.
struct Tally {
    generation: u64,
    at: i64,
    total: usize,
    facets: FacetCounts,
}

/// How long counted facets serve (jobs passing their expiry change them too).
const TALLY_SECONDS: i64 = 30;
/// Searches whose counts are kept at most.
const TALLIES: usize = 2_000;

/// Facet counts by value, each list by count (descending) then value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacetCounts {
    pub category: Vec<(String, u64)>,
    pub job_type: Vec<(String, u64)>,
    pub remote: Vec<(String, u64)>,
    pub tags: Vec<(String, u64)>,
}

/// One page of results.
pub struct Found {
    pub jobs: Vec<Job>,
    pub total: usize,
    pub facets: FacetCounts,
    /// Highlighted description excerpts (HTML, escaped but for `<mark>`), by job id.
    pub snippets: std::collections::HashMap<i64, String>,
}

/// What a search should compute beyond the page of jobs and the total.
#[derive(Debug, Clone, Copy, Default)]
pub struct Want {
    pub facets: bool,
    /// Highlighted excerpts, for result pages (the API has none).
    pub snippets: bool,
}

/// How many tags the tag facet lists.
const TOP_TAGS: usize = 20;

/// Every dimension that has facets.
const DIMS: [Dim; 4] = [Dim::Category, Dim::JobType, Dim::Remote, Dim::Tags];

fn dim_field(d: Dim) -> &'static str {
    match d {
        Dim::Category => "category",
        Dim::JobType => "job_type",
        Dim::Remote => "remote",
        Dim::Tags => "tags",
    }
}

fn active(p: &SearchParams, d: Dim) -> bool {
    match d {
        Dim::Category => p.category.is_some(),
        Dim::JobType => p.job_type.is_some(),
        Dim::Remote => !p.remote.is_empty(),
        Dim::Tags => !p.tags.is_empty(),
    }
}

fn sorted(
    counts: Option<&std::collections::HashMap<String, u64>>,
    top: usize,
) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts
        .map(|c| {
            c.iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (k.clone(), *n))
                .collect()
        })
        .unwrap_or_default();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(top);
    v
}

type U64s = Arc<dyn ColumnValues<u64>>;
type I64s = Arc<dyn ColumnValues<i64>>;

/// The sort key columns of one segment.
struct Keys {
    featured: U64s,
    published: I64s,
    id: U64s,
}

fn keys(seg: &SegmentReader) -> tantivy::Result<Keys> {
    let ff = seg.fast_fields();
    Ok(Keys {
        featured: ff.u64("featured")?.first_or_default_col(0),
        published: ff.i64("published_at")?.first_or_default_col(0),
        id: ff.u64("id")?.first_or_default_col(0),
    })
}

/// Relevance: featured first, then score, then newest, then highest id.
struct ByRelevance;
type RelevanceKey = (u64, Score, i64, u64);

impl tantivy::collector::ScoreTweaker<RelevanceKey> for ByRelevance {
    type Child = Keys;
    fn segment_tweaker(&self, seg: &SegmentReader) -> tantivy::Result<Keys> {
        keys(seg)
    }
}

impl tantivy::collector::ScoreSegmentTweaker<RelevanceKey> for Keys {
    fn score(&mut self, doc: DocId, score: Score) -> RelevanceKey {
        (
            self.featured.get_val(doc),
            score,
            self.published.get_val(doc),
            self.id.get_val(doc),
        )
    }
}

/// Newest: featured first, then newest, then highest id.
struct ByNewest;
type NewestKey = (u64, i64, u64);

impl tantivy::collector::CustomScorer<NewestKey> for ByNewest {
    type Child = Keys;
    fn segment_scorer(&self, seg: &SegmentReader) -> tantivy::Result<Keys> {
        keys(seg)
    }
}

impl tantivy::collector::CustomSegmentScorer<NewestKey> for Keys {
    fn score(&mut self, doc: DocId) -> NewestKey {
        (
            self.featured.get_val(doc),
            self.published.get_val(doc),
            self.id.get_val(doc),
        )
    }
}

/// Facet counts from the main pass (`counts`, dimensions without a filter) and
/// one more pass per filtered dimension, which counts over every other filter
/// but its own.
fn count_facets(
    searcher: &tantivy::Searcher,
    p: &SearchParams,
    f: &Fields,
    now: i64,
    mut counts: facets::Counts,
) -> Result<FacetCounts, AppError> {
    for d in DIMS.into_iter().filter(|d| active(p, *d)) {
        let q = query::build(p, f, now, Some(d), searcher);
        let c = searcher
            .search(
                &*q,
                &FacetCollector {
                    fields: vec![dim_field(d)],
                },
            )
            .map_err(search_error)?;
        counts.extend(c);
    }
    // A worldwide job matches every region, so a region's count is what
    // choosing it finds: its own jobs and the worldwide ones.
    if let Some(remote) = counts.get_mut("remote") {
        let worldwide = remote.get("worldwide").copied().unwrap_or(0);
        if worldwide > 0 {
            for r in Region::ALL.iter().filter(|r| **r != Region::Worldwide) {
                *remote.entry(r.as_str().to_string()).or_default() += worldwide;
            }
        }
    }
    Ok(FacetCounts {
        category: sorted(counts.get("category"), usize::MAX),
        job_type: sorted(counts.get("job_type"), usize::MAX),
        remote: sorted(counts.get("remote"), usize::MAX),
        tags: sorted(counts.get("tags"), TOP_TAGS),
    })
}

/// The `(limit, offset)` of a page of results in an index of `docs` documents.
/// Collecting a page reserves room for every result before it, twice over, so
/// the offset never goes past the last document: page 100,000 of 100 once asked
/// for one 800 MB allocation, which took a small server down. A page past the
/// end is empty, as it should be, so a client paging until a short page stops.
pub fn window(page: i64, per_page: i64, docs: u64) -> (usize, usize) {
    let limit = per_page.max(1) as usize;
    let wanted = (page.max(1) as u64 - 1).saturating_mul(limit as u64);
    (limit, wanted.min(docs) as usize)
}

fn search_error(e: tantivy::TantivyError) -> AppError {
    AppError::internal(format!("search: {e}"))
}

impl Search {
    /// The engine for the index under `data_dir/index`; nothing is opened yet.
    pub fn new(data_dir: &Path) -> Arc<Search> {
        Arc::new(Search {
            dir: data_dir.join("index"),
            live: RwLock::new(None),
            generation: AtomicU64::new(0),
            tallies: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// The live index directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether searches can run (false while the index is built).
    pub fn is_ready(&self) -> bool {
        self.live.read().map(|l| l.is_some()).unwrap_or(false)
    }

    /// Documents in the index as the reader sees it; `None` while it is built.
    pub fn num_docs(&self) -> Option<u64> {
        self.live().map(|live| live.reader.searcher().num_docs())
    }

    /// Changes whenever search results may have changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn install(&self, live: Option<Live>) {
        if let Ok(mut slot) = self.live.write() {
            *slot = live.map(Arc::new);
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Keeps a search's total and facets for its other pages.
    fn remember(&self, key: String, generation: u64, now: i64, total: usize, facets: &FacetCounts) {
        if let Ok(mut tallies) = self.tallies.lock() {
            if tallies.len() >= TALLIES {
                tallies.clear();
            }
            let facets = facets.clone();
            tallies.insert(
                key,
                Tally {
                    generation,
                    at: now,
                    total,
                    facets,
                },
            );
        }
    }

    fn live(&self) -> Option<Arc<Live>> {
        self.live.read().ok().and_then(|l| l.clone())
    }

    /// Reloads the reader after a commit.
    pub(crate) fn reload(&self) -> Result<(), AppError> {
        if let Some(live) = self.live() {
            live.reader.reload().map_err(search_error)?;
        }
        self.changed();
        Ok(())
    }

    /// Runs a search and loads the page of jobs it finds; `None` while the
    /// index is being built. Blocking: call it off the async runtime.
    pub fn find(
        &self,
        db: &Db,
        p: &SearchParams,
        now: i64,
        want: Want,
    ) -> Result<Option<Found>, AppError> {
        let with_facets = want.facets;
        let Some(live) = self.live() else {
            return Ok(None);
        };
        let searcher = live.reader.searcher();
        let f = &live.fields;
        let query = query::build(p, f, now, None, &searcher);
        let (limit, offset) = window(p.page, p.per_page, searcher.num_docs());
        let shared: Vec<&'static str> = if with_facets {
            DIMS.iter()
                .filter(|d| !active(p, **d))
                .map(|d| dim_field(*d))
                .collect()
        } else {
            Vec::new()
        };
        let generation = self.generation();
        let tally_key = with_facets.then(|| {
            let mut whole = p.clone();
            whole.page = 1;
            whole.sort = None;
            whole.per_page = query::DEFAULT_PER_PAGE;
            query::encode(&whole.to_query())
        });
        let counted = tally_key.as_ref().and_then(|key| {
            let tallies = self.tallies.lock().ok()?;
            let t = tallies.get(key)?;
            (t.generation == generation && (t.at..t.at + TALLY_SECONDS).contains(&now))
                .then(|| (t.total, t.facets.clone()))
        });
        let top = TopDocs::with_limit(limit).and_offset(offset);
        // Another page of a search already counted needs only its page of ids.
        let facet = FacetCollector {
            fields: if counted.is_some() {
                Vec::new()
            } else {
                shared
            },
        };
        let (ids, counted_total, counts): (Vec<i64>, usize, facets::Counts) =
            match p.effective_sort() {
                Sort::Relevance => {
                    let (hits, total, counts) = searcher
                        .search(&*query, &(top.tweak_score(ByRelevance), Count, facet))
                        .map_err(search_error)?;
                    (
                        hits.into_iter().map(|(k, _)| k.3 as i64).collect(),
                        total,
                        counts,
                    )
                }
                Sort::Newest => {
                    let (hits, total, counts) = searcher
                        .search(&*query, &(top.custom_score(ByNewest), Count, facet))
                        .map_err(search_error)?;
                    (
                        hits.into_iter().map(|(k, _)| k.2 as i64).collect(),
                        total,
                        counts,
                    )
                }
            };
        let (total, facets) = match counted {
            Some(counted) => counted,
            None => {
                let facets = if with_facets {
                    count_facets(&searcher, p, f, now, counts)?
                } else {
                    FacetCounts::default()
                };
                if let Some(key) = tally_key {
                    self.remember(key, generation, now, counted_total, &facets);
                }
                (counted_total, facets)
            }
        };
        let jobs = db.read_blocking(|conn| {
            let mut jobs = Vec::with_capacity(ids.len());
            for id in &ids {
                match crate::jobs::store::get(conn, *id) {
                    Ok(job) => jobs.push(job),
                    Err(AppError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(jobs)
        })?;
        let mut snippets = std::collections::HashMap::new();
        if want.snippets && !p.q.trim().is_empty() && !jobs.is_empty() {
            if let Ok(mut generator) = SnippetGenerator::create(&searcher, &*query, f.description) {
                generator.set_max_num_chars(180);
                for job in &jobs {
                    let mut snippet =
                        generator.snippet(&crate::markdown::to_text(&job.description));
                    snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                    if !snippet.is_empty() {
                        snippets.insert(job.id, snippet.to_html());
                    }
                }
            }
        }
        Ok(Some(Found {
            jobs,
            total,
            facets,
            snippets,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn a_page_never_reaches_past_the_last_document() {
        assert_eq!(window(1, 20, 0), (20, 0));
        assert_eq!(window(3, 20, 1_000), (20, 40));
        assert_eq!(window(100_000, 100, 5_000), (100, 5_000));
        assert_eq!(window(i64::MAX, 100, 22_888), (100, 22_888));
        assert_eq!(window(-5, 0, 10), (1, 0));
    }
}
