//! Search parameters (src/search/query.rs) and the analyzer
//! (src/search/tokenizer.rs): a query string as a page or the API gets it is
//! decoded as poem decodes it, read into `SearchParams` and built into the
//! Tantivy query, which must run on an index.
//!
//! Properties:
//! - the lenient reading (pages) never fails; the strict one (API), when it
//!   succeeds, reads the same (but for tags no job can have); no page's
//!   window reaches past the last document;
//! - the parameters written back as a query string (links, stored alerts) read
//!   back the same;
//! - every query, and every facet query leaving one filter out, runs;
//! - a job whose title is the words searched for is found by them;
//! - the tokenizer's tokens are the non-empty text between their offsets.

#![no_main]

use std::sync::{Mutex, OnceLock};

use jobboard::config::{Category, Config};
use jobboard::search::query::{self, Dim, SearchParams};
use jobboard::search::schema::{self, Fields};
use jobboard::search::tokenizer::JobTokenizer;
use libfuzzer_sys::fuzz_target;
use tantivy::collector::{Count, TopDocs};
use tantivy::tokenizer::{TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, SingleSegmentIndexWriter, TantivyDocument};

/// Now, for expiry and `posted_within`.
const NOW: i64 = 1_800_000_000;

fn categories() -> &'static [Category] {
    static CATS: OnceLock<Vec<Category>> = OnceLock::new();
    CATS.get_or_init(|| {
        Config::for_data_dir(std::path::Path::new("/nonexistent"))
            .site
            .categories
    })
}

/// A RAM index with a writer and a reader.
struct Ram {
    writer: IndexWriter,
    reader: IndexReader,
    fields: Fields,
}

fn ram() -> Ram {
    let (schema, fields) = schema::build();
    let index = Index::create_in_ram(schema);
    schema::register(&index);
    let writer = index
        .writer_with_num_threads(1, 15_000_000)
        .expect("writer");
    let reader = index.reader().expect("reader");
    Ram {
        writer,
        reader,
        fields,
    }
}

fn doc(f: &Fields, id: u64, title: &str, text: &str, tags: &[&str]) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_u64(f.id, id);
    d.add_text(f.title, title);
    d.add_text(f.company, "Acme");
    d.add_text(f.tags_text, tags.join(" "));
    d.add_text(f.description, text);
    d.add_text(f.category, "software-development");
    d.add_text(f.job_type, "full_time");
    d.add_text(f.remote, "worldwide");
    for t in tags {
        d.add_text(f.tags, *t);
    }
    d.add_i64(f.salary_top, 90_000);
    d.add_i64(f.published_at, NOW - 86_400);
    d.add_i64(f.expires_at, i64::MAX);
    d.add_u64(f.featured, 0);
    d
}

/// A few jobs in several scripts, for running every query.
fn shared() -> &'static Mutex<Ram> {
    static SHARED: OnceLock<Mutex<Ram>> = OnceLock::new();
    SHARED.get_or_init(|| {
        let mut ram = ram();
        let f = ram.fields;
        let jobs = [
            (
                "Senior Rust Engineer",
                "Build things in Rust and C++.",
                &["rust", "c++"][..],
            ),
            (
                "Programação em São Paulo",
                "Desenvolvedor backend",
                &["java"][..],
            ),
            (
                "[徵] 統一資訊 iOS 工程師",
                "行動應用軟體工程師 Mobile",
                &["ios"][..],
            ),
            (
                "Lập trình viên Việt Nam",
                "Remote, node.js",
                &["node.js"][..],
            ),
        ];
        for (i, (title, text, tags)) in jobs.into_iter().enumerate() {
            ram.writer
                .add_document(doc(&f, i as u64 + 1, title, text, tags))
                .expect("add");
        }
        ram.writer.commit().expect("commit");
        ram.reader.reload().expect("reload");
        Mutex::new(ram)
    })
}

/// An index holding just the job the words should find (one segment, written
/// without the writer's threads: far quicker than a commit).
fn single(title: &str) -> (Index, Fields) {
    let (schema, fields) = schema::build();
    let index = Index::create_in_ram(schema);
    schema::register(&index);
    let mut writer = SingleSegmentIndexWriter::new(index, 200_000).expect("single-segment writer");
    writer
        .add_document(doc(&fields, 1, title, "", &[]))
        .expect("add");
    (writer.finalize().expect("finalize"), fields)
}

fn check_tokenizer(text: &str) {
    let mut tokenizer = JobTokenizer::default();
    let mut stream = tokenizer.token_stream(text);
    let mut last_from = 0;
    while stream.advance() {
        let t = stream.token();
        assert!(t.offset_from < t.offset_to, "empty token {t:?}");
        assert!(t.offset_from >= last_from, "tokens out of order: {t:?}");
        assert_eq!(
            text.get(t.offset_from..t.offset_to),
            Some(t.text.as_str()),
            "token {t:?} is not its text"
        );
        last_from = t.offset_from;
    }
}

/// Written back and read again (links, stored alerts; strictly, as the API
/// would): the same search.
fn round_trip(p: &SearchParams, strict: bool) {
    let written = query::encode(&p.to_query());
    let back: Vec<(String, String)> =
        serde_urlencoded::from_str(&written).expect("our query strings decode");
    let again = SearchParams::from_pairs(
        back.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        categories(),
        strict,
    )
    .unwrap_or_else(|e| panic!("{written:?} refused: {e:?}"));
    assert_eq!(
        again,
        SearchParams {
            page: 1,
            ..p.clone()
        },
        "{written:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    // As poem's `Query<Vec<(String, String)>>` reads a query string.
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let cats = categories();
    let borrowed = || pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let p = SearchParams::from_pairs(borrowed(), cats, false).expect("lenient never fails");
    let (_, offset) = jobboard::search::window(p.page, p.per_page, 1_000);
    assert!(offset <= 1_000, "a page past the last document: {p:?}");
    if let Ok(strict) = SearchParams::from_pairs(borrowed(), cats, true) {
        // The API keeps a tag no job can have (it matches nothing); pages
        // leave it out. Otherwise both read the same.
        assert!(
            p.tags.iter().all(|t| strict.tags.contains(t)),
            "{strict:?} {p:?}"
        );
        assert_eq!(
            SearchParams {
                tags: Vec::new(),
                ..strict.clone()
            },
            SearchParams {
                tags: Vec::new(),
                ..p.clone()
            },
            "strict and lenient differ"
        );
        round_trip(&strict, true);
    }
    for (_, v) in &pairs {
        check_tokenizer(v);
    }

    round_trip(&p, true);

    // Every query runs: the search, and the facet query of each filter set,
    // which leaves that filter out.
    {
        let ram = shared().lock().expect("lock");
        let searcher = ram.reader.searcher();
        let active = [
            (Dim::Category, p.category.is_some()),
            (Dim::JobType, p.job_type.is_some()),
            (Dim::Remote, !p.remote.is_empty()),
            (Dim::Tags, !p.tags.is_empty()),
        ];
        let facets = active.iter().filter(|(_, on)| *on).map(|(d, _)| Some(*d));
        for except in std::iter::once(None).chain(facets) {
            let q = query::build(&p, &ram.fields, NOW, except, &searcher);
            searcher
                .search(&*q, &(Count, TopDocs::with_limit(5)))
                .unwrap_or_else(|e| panic!("{p:?} does not run: {e}"));
        }
    }

    // A job titled with the words is found by them.
    if !p.q.trim().is_empty() {
        let (index, f) = single(&p.q);
        let searcher = index.reader().expect("reader").searcher();
        let words = SearchParams {
            q: p.q.clone(),
            ..SearchParams::default()
        };
        let q = query::build(&words, &f, NOW, None, &searcher);
        let found = searcher.search(&*q, &Count).expect("search");
        assert_eq!(found, 1, "a job titled {:?} is not found by its title", p.q);
    }
});
