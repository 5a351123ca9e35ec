//! An alert's search: the parameters of SPEC §6 kept as a query string, read
//! back for each round, and put into words for people.

use crate::config::Category;
use crate::search::query::{DEFAULT_PER_PAGE, SearchParams, encode};

/// The search parameters in `pairs` as an alert keeps them: only what
/// chooses jobs (no sort, page or "posted within": an alert sends new jobs).
/// `tag` may hold several tags separated by commas.
pub fn normalise<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    categories: &[Category],
) -> SearchParams {
    let mut split: Vec<(&str, &str)> = Vec::new();
    for (k, v) in pairs {
        if k == "tag" {
            split.extend(v.split(',').map(|t| ("tag", t)));
        } else {
            split.push((k, v));
        }
    }
    let mut p = SearchParams::from_pairs(split, categories, false).unwrap_or_default();
    p.posted_within = None;
    p.sort = None;
    p.page = 1;
    p.per_page = DEFAULT_PER_PAGE;
    p
}

/// The query string an alert stores.
pub fn stored(p: &SearchParams) -> String {
    encode(&p.to_query())
}

/// An alert's stored query string read back.
pub fn params(query: &str, categories: &[Category]) -> SearchParams {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    normalise(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        categories,
    )
}

fn join_or(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {word} {last}", rest.join(", ")),
    }
}

/// The search in words: `New jobs matching “rust”, remote from Europe`.
pub fn describe(p: &SearchParams, categories: &[Category]) -> String {
    let mut parts = Vec::new();
    if !p.q.is_empty() {
        parts.push(format!("matching “{}”", p.q));
    }
    if let Some(c) = &p.category {
        let label = categories
            .iter()
            .find(|x| &x.slug == c)
            .map(|x| x.label.clone())
            .unwrap_or_else(|| c.clone());
        parts.push(format!("in {label}"));
    }
    if let Some(t) = p.job_type {
        parts.push(t.label().to_lowercase());
    }
    if !p.tags.is_empty() {
        parts.push(format!("tagged {}", join_or(&p.tags, "and")));
    }
    if !p.remote.is_empty() {
        let regions: Vec<String> = p.remote.iter().map(|r| r.label().to_string()).collect();
        parts.push(format!("remote from {}", join_or(&regions, "or")));
    }
    if let Some(s) = p.salary_min {
        parts.push(format!("paying at least {s}"));
    }
    if parts.is_empty() {
        "Every new job".to_string()
    } else {
        format!("New jobs {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_chooses_jobs_and_reads_it_back() {
        let p = normalise(
            [
                ("q", "rust"),
                ("remote", "europe"),
                ("tag", "go, sql"),
                ("sort", "newest"),
                ("page", "3"),
                ("posted_within", "7"),
                ("remote", "nowhere"),
            ],
            &[],
        );
        let q = stored(&p);
        assert_eq!(q, "q=rust&tag=go&tag=sql&remote=europe");
        assert_eq!(params(&q, &[]), p);
        assert_eq!(
            describe(&p, &[]),
            "New jobs matching “rust”, tagged go and sql, remote from Europe"
        );
        assert_eq!(describe(&params("", &[]), &[]), "Every new job");
    }
}
