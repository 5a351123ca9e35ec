//! Search parameters (SPEC §6) as pages, the API and the feed take them, and
//! their translation into one Tantivy query. One parser serves all three.

use std::ops::Bound;

use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::schema::Fields;
use super::tokenizer::positioned_tokens;
use crate::config::Category;
use crate::error::FieldErrors;
use crate::jobs::input::normalise_tag;
use crate::jobs::model::{JobType, Region};

/// How results are ordered (featured jobs first either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Newest,
}

/// A filter dimension, for facets that leave their own filter out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Category,
    JobType,
    Remote,
    Tags,
}

/// A validated search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub q: String,
    pub category: Option<String>,
    pub job_type: Option<JobType>,
    pub tags: Vec<String>,
    pub remote: Vec<Region>,
    pub salary_min: Option<i64>,
    pub posted_within: Option<i64>,
    /// `None`: the default, relevance with words, else newest.
    pub sort: Option<Sort>,
    pub page: i64,
    pub per_page: i64,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            q: String::new(),
            category: None,
            job_type: None,
            tags: Vec::new(),
            remote: Vec::new(),
            salary_min: None,
            posted_within: None,
            sort: None,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;
/// Words beyond this many are ignored (each one costs a clause).
const MAX_WORDS: usize = 12;
const MAX_Q_CHARS: usize = 200;

impl SearchParams {
    /// Reads `(name, value)` pairs. With `strict` (the API) an unknown value of an
    /// enumerated parameter is an error per field; pages ignore it instead.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        categories: &[Category],
        strict: bool,
    ) -> Result<SearchParams, FieldErrors> {
        let mut p = SearchParams::default();
        let mut errors = FieldErrors::new();
        let mut bad = |name: &str, msg: String| {
            if strict {
                errors.entry(name.to_string()).or_insert(msg);
            }
        };
        for (name, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match name {
                // Cut to length, then trimmed again: a space left at the
                // cut would be read differently when written back.
                "q" => {
                    let cut: String = value.chars().take(MAX_Q_CHARS).collect();
                    p.q = cut.trim_end().to_string();
                }
                "category" => {
                    let slug = crate::slug::slugify(value);
                    match categories.iter().find(|c| c.slug == slug) {
                        Some(c) => p.category = Some(c.slug.clone()),
                        None => bad(
                            "category",
                            format!("{value:?} is not a category of this board"),
                        ),
                    }
                }
                "job_type" => match JobType::parse(value) {
                    Some(t) => p.job_type = Some(t),
                    None => bad(
                        "job_type",
                        "must be full_time, part_time, contract or internship".into(),
                    ),
                },
                "tag" => match normalise_tag(value) {
                    Some(t) if !p.tags.contains(&t) => p.tags.push(t),
                    Some(_) => {}
                    // Tags are free words, not a list: one no job can have
                    // (no letter or digit, or too long) matches nothing in
                    // the API, as an unknown one does; pages leave it out.
                    None if strict => p.tags.push(value.to_lowercase()),
                    None => {}
                },
                "remote" => match Region::parse(value) {
                    Some(r) if !p.remote.contains(&r) => p.remote.push(r),
                    Some(_) => {}
                    None => bad(
                        "remote",
                        "must be worldwide, americas, europe, africa, middle_east or asia_pacific"
                            .into(),
                    ),
                },
                "salary_min" => match value.replace([',', '_'], "").parse::<i64>() {
                    Ok(n) if n >= 0 => p.salary_min = Some(n),
                    _ => bad("salary_min", "must be a whole number of 0 or more".into()),
                },
                "posted_within" => match value.parse::<i64>() {
                    Ok(n) if (1..=3650).contains(&n) => p.posted_within = Some(n),
                    _ => bad(
                        "posted_within",
                        "must be a number of days from 1 to 3650".into(),
                    ),
                },
                "sort" => match value {
                    "relevance" => p.sort = Some(Sort::Relevance),
                    "newest" => p.sort = Some(Sort::Newest),
                    _ => bad("sort", "must be relevance or newest".into()),
                },
                "page" => match value.parse::<i64>() {
                    Ok(n) => p.page = n.clamp(1, 100_000),
                    Err(_) => bad("page", "must be a whole number".into()),
                },
                "per_page" => match value.parse::<i64>() {
                    Ok(n) => p.per_page = n.clamp(1, MAX_PER_PAGE),
                    Err(_) => bad("per_page", "must be a whole number".into()),
                },
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(p)
        } else {
            Err(errors)
        }
    }

    /// The effective sort.
    pub fn effective_sort(&self) -> Sort {
        match self.sort {
            Some(s) => s,
            None if self.q.trim().is_empty() => Sort::Newest,
            None => Sort::Relevance,
        }
    }

    /// Whether any filter (not the words) is set.
    pub fn has_filters(&self) -> bool {
        self.category.is_some()
            || self.job_type.is_some()
            || !self.tags.is_empty()
            || !self.remote.is_empty()
            || self.salary_min.is_some()
            || self.posted_within.is_some()
    }

    /// The parameters as a query string (without page), for links.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.q.is_empty() {
            out.push(("q", self.q.clone()));
        }
        if let Some(c) = &self.category {
            out.push(("category", c.clone()));
        }
        if let Some(t) = self.job_type {
            out.push(("job_type", t.as_str().to_string()));
        }
        for t in &self.tags {
            out.push(("tag", t.clone()));
        }
        for r in &self.remote {
            out.push(("remote", r.as_str().to_string()));
        }
        if let Some(s) = self.salary_min {
            out.push(("salary_min", s.to_string()));
        }
        if let Some(d) = self.posted_within {
            out.push(("posted_within", d.to_string()));
        }
        match self.sort {
            Some(Sort::Relevance) => out.push(("sort", "relevance".into())),
            Some(Sort::Newest) => out.push(("sort", "newest".into())),
            None => {}
        }
        if self.per_page != DEFAULT_PER_PAGE {
            out.push(("per_page", self.per_page.to_string()));
        }
        out
    }
}

/// Encodes pairs as `a=b&c=d`.
pub fn encode(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out
}

/// A piece of the words: a bare word or a quoted phrase.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Word(String),
    Phrase(String),
}

/// Splits `q` into words and `"quoted phrases"`; an unclosed quote is just words.
fn pieces(q: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = q;
    while let Some(start) = rest.find('"') {
        let (before, after) = rest.split_at(start);
        out.extend(
            before
                .split_whitespace()
                .map(|w| Piece::Word(w.to_string())),
        );
        let after = &after[1..];
        match after.find('"') {
            Some(end) => {
                let phrase = after[..end].trim();
                if !phrase.is_empty() {
                    out.push(Piece::Phrase(phrase.to_string()));
                }
                rest = &after[end + 1..];
            }
            None => {
                rest = after;
                break;
            }
        }
    }
    out.extend(rest.split_whitespace().map(|w| Piece::Word(w.to_string())));
    out.truncate(MAX_WORDS);
    out
}

/// The text fields and how much a match in each weighs.
fn weighted(f: &Fields) -> [(Field, f32); 4] {
    [
        (f.title, 3.0),
        (f.tags_text, 3.0),
        (f.company, 2.0),
        (f.description, 1.0),
    ]
}

fn boxed(q: impl Query) -> Box<dyn Query> {
    Box::new(q)
}

/// A word is matched with one typo too only while it is rare in the index: a
/// word most jobs use is spelled right, and expanding it would read every one
/// of those jobs' postings.
pub const FUZZY_BELOW: u64 = 100;

/// The query for one word or phrase (its tokens with their positions): any
/// text field may match; a single token of five letters or more that the
/// index holds rarely (or not at all) also matches with one typo, weighing
/// less.
fn piece_query(
    f: &Fields,
    toks: &[(usize, String)],
    fuzzy: bool,
    searcher: &Searcher,
) -> Option<Box<dyn Query>> {
    let (first, token) = toks.first()?;
    let fuzzy = fuzzy
        && toks.len() == 1
        && token.chars().count() >= 5
        && token.is_ascii()
        && weighted(f)
            .iter()
            .map(|(field, _)| {
                searcher
                    .doc_freq(&Term::from_field_text(*field, token))
                    .unwrap_or(0)
            })
            .sum::<u64>()
            < FUZZY_BELOW;
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, weight) in weighted(f) {
        let exact: Box<dyn Query> = if toks.len() == 1 {
            boxed(TermQuery::new(
                Term::from_field_text(field, token),
                IndexRecordOption::WithFreqs,
            ))
        } else {
            // At the positions the analyzer gave, so a word it dropped (too
            // long) in the middle of a phrase still matches the indexed text.
            boxed(PhraseQuery::new_with_offset(
                toks.iter()
                    .map(|(at, t)| (at - first, Term::from_field_text(field, t)))
                    .collect(),
            ))
        };
        should.push((Occur::Should, boxed(BoostQuery::new(exact, weight))));
        if fuzzy {
            let typo = FuzzyTermQuery::new(Term::from_field_text(field, token), 1, true);
            should.push((
                Occur::Should,
                boxed(BoostQuery::new(boxed(typo), weight * 0.2)),
            ));
        }
    }
    Some(boxed(BooleanQuery::new(should)))
}

fn term(field: Field, value: &str) -> Box<dyn Query> {
    boxed(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn at_least(field: Field, value: i64) -> Box<dyn Query> {
    boxed(RangeQuery::new(
        Bound::Included(Term::from_field_i64(field, value)),
        Bound::Unbounded,
    ))
}

/// Builds the query for `p` at time `now`, leaving out the filter of `except`.
pub fn build(
    p: &SearchParams,
    f: &Fields,
    now: i64,
    except: Option<Dim>,
    searcher: &Searcher,
) -> Box<dyn Query> {
    let mut must: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, at_least(f.expires_at, now + 1))];
    for piece in pieces(&p.q) {
        let q = match &piece {
            Piece::Word(w) => piece_query(f, &positioned_tokens(w), true, searcher),
            Piece::Phrase(ph) => piece_query(f, &positioned_tokens(ph), false, searcher),
        };
        if let Some(q) = q {
            must.push((Occur::Must, q));
        }
    }
    if except != Some(Dim::Category) {
        if let Some(c) = &p.category {
            must.push((Occur::Must, term(f.category, c)));
        }
    }
    if except != Some(Dim::JobType) {
        if let Some(t) = p.job_type {
            must.push((Occur::Must, term(f.job_type, t.as_str())));
        }
    }
    if except != Some(Dim::Tags) {
        for t in &p.tags {
            must.push((Occur::Must, term(f.tags, t)));
        }
    }
    if except != Some(Dim::Remote) && !p.remote.is_empty() {
        // Any of the regions; a worldwide job matches every region.
        let mut any: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, term(f.remote, Region::Worldwide.as_str()))];
        for r in &p.remote {
            any.push((Occur::Should, term(f.remote, r.as_str())));
        }
        must.push((Occur::Must, boxed(BooleanQuery::new(any))));
    }
    if let Some(s) = p.salary_min {
        must.push((Occur::Must, at_least(f.salary_top, s)));
    }
    if let Some(d) = p.posted_within {
        must.push((Occur::Must, at_least(f.published_at, now - d * 86_400)));
    }
    boxed(BooleanQuery::new(must))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats() -> Vec<Category> {
        crate::config::Config::for_data_dir(std::path::Path::new("/tmp"))
            .site
            .categories
    }

    #[test]
    fn words_and_phrases() {
        assert_eq!(
            pieces(r#"rust "remote first" berlin"#),
            vec![
                Piece::Word("rust".into()),
                Piece::Phrase("remote first".into()),
                Piece::Word("berlin".into())
            ]
        );
        assert_eq!(
            pieces(r#"unclosed "quote here"#),
            vec![
                Piece::Word("unclosed".into()),
                Piece::Word("quote".into()),
                Piece::Word("here".into())
            ]
        );
        assert!(pieces(r#""""#).is_empty());
    }

    #[test]
    fn pages_ignore_what_the_api_refuses() {
        let pairs = [
            ("category", "astrology"),
            ("job_type", "gig"),
            ("remote", "mars"),
            ("sort", "best"),
        ];
        let lenient = SearchParams::from_pairs(pairs, &cats(), false).expect("lenient");
        assert_eq!(lenient, SearchParams::default());
        let strict = SearchParams::from_pairs(pairs, &cats(), true).expect_err("strict");
        for k in ["category", "job_type", "remote", "sort"] {
            assert!(strict.contains_key(k), "{k}");
        }
    }

    #[test]
    fn a_phrase_with_a_word_too_long_to_index_finds_its_job() {
        let (schema, f) = super::super::schema::build();
        let index = tantivy::Index::create_in_ram(schema);
        super::super::schema::register(&index);
        let mut writer: tantivy::IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let title = format!("remote first {} c bnreil", "b".repeat(60));
        let mut doc = tantivy::TantivyDocument::default();
        doc.add_text(f.title, &title);
        doc.add_i64(f.expires_at, i64::MAX);
        writer.add_document(doc).expect("add");
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        for q in [title.clone(), format!("\"{title}\""), format!("\"{title}")] {
            let p = SearchParams {
                q,
                ..SearchParams::default()
            };
            let query = build(&p, &f, 0, None, &searcher);
            let found = searcher
                .search(&*query, &tantivy::collector::Count)
                .expect("search");
            assert_eq!(found, 1, "{:?}", p.q);
        }
    }

    #[test]
    fn words_cut_at_a_space_read_back_the_same() {
        let long = format!("{} b", "a".repeat(MAX_Q_CHARS - 1));
        let p = SearchParams::from_pairs([("q", long.as_str())], &cats(), true).expect("valid");
        assert_eq!(p.q, "a".repeat(MAX_Q_CHARS - 1));
        let again = SearchParams::from_pairs([("q", p.q.as_str())], &cats(), true).expect("valid");
        assert_eq!(again, p);
    }

    #[test]
    fn parameters_are_read_and_written_back() {
        let p = SearchParams::from_pairs(
            [
                ("q", "rust"),
                ("category", "Software Development"),
                ("tag", "Go"),
                ("tag", "sql"),
                ("remote", "europe"),
                ("salary_min", "50000"),
                ("per_page", "500"),
                ("page", "0"),
            ],
            &cats(),
            true,
        )
        .expect("valid");
        assert_eq!(p.category.as_deref(), Some("software-development"));
        assert_eq!(p.tags, vec!["go", "sql"]);
        assert_eq!((p.page, p.per_page), (1, MAX_PER_PAGE));
        assert_eq!(p.effective_sort(), Sort::Relevance);
        assert_eq!(
            encode(&p.to_query()),
            "q=rust&category=software-development&tag=go&tag=sql&remote=europe&salary_min=50000&per_page=100"
        );
    }
}
