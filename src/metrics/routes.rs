//! Which route a request went to, as its pattern (`/jobs/:id_slug`), never its
//! path: a label per job id would grow without end. The table below lists
//! every route the board has, in poem's syntax; a path that fits none is
//! `other`. A test keeps the table in step with the route definitions.

use std::sync::OnceLock;

/// Every route of the board (`app()` in `src/web/mod.rs` and the `routes()`
/// of each feature), the API's with their `/api/v1` prefix.
pub const ROUTES: &[&str] = &[
    "/",
    "/jobs",
    "/jobs/:id_slug",
    "/jobs/:id/apply",
    "/companies/:slug",
    "/feed.xml",
    "/sitemap.xml",
    "/sitemaps/:file",
    "/robots.txt",
    "/healthz",
    "/metrics",
    "/assets/*name",
    "/uploads/*path",
    "/favicon.ico",
    "/register",
    "/login",
    "/logout",
    "/verify-email",
    "/forgot-password",
    "/reset-password",
    "/post",
    "/post/:id/preview",
    "/post/:id/edit",
    "/post/:id/submit",
    "/post/:id/done",
    "/alerts",
    "/alerts/sent",
    "/alerts/confirm/:token",
    "/alerts/unsubscribe/:token",
    "/alerts/manage/:token",
    "/dashboard",
    "/dashboard/jobs/:id/edit",
    "/dashboard/jobs/:id/fill",
    "/dashboard/jobs/:id/renew",
    "/dashboard/jobs/:id/feature",
    "/dashboard/jobs/:id/duplicate",
    "/dashboard/jobs/:id/submit",
    "/dashboard/jobs/:id/delete",
    "/dashboard/receipts",
    "/dashboard/company",
    "/dashboard/company/logo",
    "/dashboard/tokens",
    "/dashboard/tokens/:id/revoke",
    "/admin",
    "/admin/jobs",
    "/admin/jobs/:id",
    "/admin/jobs/:id/edit",
    "/admin/jobs/:id/:action",
    "/admin/users",
    "/admin/users/:id/:action",
    "/admin/payments",
    "/admin/tasks/:id/retry",
    "/api/openapi.json",
    "/api/v1/jobs",
    "/api/v1/jobs/:id",
    "/api/v1/jobs/:id/checkout",
    "/api/v1/companies/:slug",
    "/stripe/webhook",
];

/// The label of a path that fits no route.
pub const OTHER: &str = "other";

/// How many labels there are: every route and `other`.
pub const COUNT: usize = ROUTES.len() + 1;

/// A route's label by its index (the last index is `other`).
pub fn label(index: usize) -> &'static str {
    ROUTES.get(index).copied().unwrap_or(OTHER)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Literal(&'static str),
    /// `:name`: one non-empty segment.
    Param,
    /// `*name`: the non-empty rest of the path.
    Rest,
}

/// The routes split into segments, with their indexes, grouped by first
/// segment so a path is compared with a handful of routes only (a scan of
/// two dozen short strings: cheaper than hashing the segment).
struct Table {
    by_first: Vec<(&'static str, Vec<Route>)>,
}

/// A route's index in [`ROUTES`] and its segments.
type Route = (usize, Vec<Segment>);

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut by_first: Vec<(&'static str, Vec<Route>)> = Vec::new();
        for (index, route) in ROUTES.iter().enumerate() {
            let segments: Vec<Segment> = route[1..]
                .split('/')
                .map(|s| match s.as_bytes().first() {
                    Some(b':') => Segment::Param,
                    Some(b'*') => Segment::Rest,
                    _ => Segment::Literal(s),
                })
                .collect();
            let first = match segments.first() {
                Some(Segment::Literal(s)) => *s,
                // No route starts with a capture; were one to, it would need
                // a scan of its own.
                _ => "",
            };
            match by_first.iter_mut().find(|(f, _)| *f == first) {
                Some((_, routes)) => routes.push((index, segments)),
                None => by_first.push((first, vec![(index, segments)])),
            }
        }
        Table { by_first }
    })
}

/// How well `segments` fit `path`: `None` when they don't; else lower is more
/// specific (a literal beats a capture beats a wildcard, segment by segment,
/// as poem's router decides).
fn fit(segments: &[Segment], path: &str) -> Option<u64> {
    // Each segment's kind is a base-3 digit, the first the most significant.
    let weight = |i: usize| 3u64.pow(20u32.saturating_sub(i as u32));
    let mut rest = path;
    let mut rank = 0u64;
    for (i, segment) in segments.iter().enumerate() {
        let (part, tail) = match rest.split_once('/') {
            Some((part, tail)) => (part, Some(tail)),
            None => (rest, None),
        };
        match segment {
            Segment::Literal(lit) if *lit == part => {}
            Segment::Param if !part.is_empty() => rank += weight(i),
            Segment::Rest if !rest.is_empty() => return Some(rank + 2 * weight(i)),
            _ => return None,
        }
        match tail {
            Some(tail) if i + 1 < segments.len() => rest = tail,
            None if i + 1 == segments.len() => return Some(rank),
            _ => return None,
        }
    }
    None
}

/// The index of the route `path` goes to ([`label`] names it).
pub fn classify(path: &str) -> usize {
    let Some(path) = path.strip_prefix('/') else {
        return ROUTES.len();
    };
    let first = path.split('/').next().unwrap_or("");
    let Some((_, candidates)) = table().by_first.iter().find(|(f, _)| *f == first) else {
        return ROUTES.len();
    };
    candidates
        .iter()
        .filter_map(|(index, segments)| fit(segments, path).map(|rank| (rank, *index)))
        .min()
        .map_or(ROUTES.len(), |(_, index)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> &'static str {
        label(classify(path))
    }

    #[test]
    fn paths_get_their_route_pattern() {
        assert_eq!(route("/"), "/");
        assert_eq!(route("/jobs"), "/jobs");
        assert_eq!(route("/jobs/12-rust-engineer"), "/jobs/:id_slug");
        assert_eq!(route("/jobs/12/apply"), "/jobs/:id/apply");
        assert_eq!(route("/assets/css/site.3f2a.css"), "/assets/*name");
        assert_eq!(route("/uploads/logos/7.png"), "/uploads/*path");
        assert_eq!(route("/admin/jobs/3/edit"), "/admin/jobs/:id/edit");
        assert_eq!(route("/admin/jobs/3/reject"), "/admin/jobs/:id/:action");
        assert_eq!(route("/admin/jobs/3"), "/admin/jobs/:id");
        assert_eq!(route("/api/v1/jobs/5"), "/api/v1/jobs/:id");
        assert_eq!(route("/api/openapi.json"), "/api/openapi.json");
        assert_eq!(route("/dashboard/company/logo"), "/dashboard/company/logo");
    }

    #[test]
    fn anything_else_is_other() {
        for path in [
            "",
            "/nope",
            "/jobs/",
            "/jobs/1/apply/more",
            "/assets/",
            "/api",
            "/api/v1/jobs/5/x",
            "/wp-login.php",
            "//",
            "/admin/jobs/3/edit/x",
        ] {
            assert_eq!(route(path), OTHER, "{path:?}");
        }
    }

    #[test]
    fn every_route_is_its_own_label() {
        for (i, r) in ROUTES.iter().enumerate() {
            let sample = r
                .split('/')
                .map(|s| match s.as_bytes().first() {
                    Some(b':') => "7",
                    Some(b'*') => "a/b.css",
                    _ => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            assert_eq!(classify(&sample), i, "{sample} should be {r}");
        }
        assert_eq!(label(ROUTES.len()), OTHER);
    }

    /// The route patterns the source defines: `.at("…")` in route tables
    /// (under `/api` in `src/web/api.rs`), `#[oai(path = "…")]` operations
    /// (under `/api/v1`), the attribute on one line or several.
    fn defined_routes() -> std::collections::BTreeSet<String> {
        fn walk(dir: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).expect("src").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("source");
                let api = path.ends_with("web/api.rs");
                for (marker, prefix) in [
                    (".at(", if api { "/api" } else { "" }),
                    ("#[oai(", "/api/v1"),
                ] {
                    for (_, after) in text
                        .match_indices(marker)
                        .map(|(i, m)| (i, &text[i + m.len()..]))
                    {
                        let mut after = after.trim_start();
                        // `#[oai(path = "…"` on one line or spread over several.
                        if marker == "#[oai(" {
                            let Some(rest) = after.strip_prefix("path") else {
                                continue;
                            };
                            let Some(rest) = rest.trim_start().strip_prefix('=') else {
                                continue;
                            };
                            after = rest.trim_start();
                        }
                        if let Some(literal) = after.strip_prefix("\"/") {
                            if let Some(end) = literal.find('"') {
                                found.insert(format!("{prefix}/{}", &literal[..end]));
                            }
                        }
                    }
                }
            }
        }
        let mut found = std::collections::BTreeSet::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        found
    }

    #[test]
    fn the_table_lists_every_route_the_source_defines() {
        let defined = defined_routes();
        assert!(defined.len() > 40, "the scan found routes: {defined:?}");
        let table: std::collections::BTreeSet<String> =
            ROUTES.iter().map(|r| r.to_string()).collect();
        let missing: Vec<_> = defined.difference(&table).collect();
        let stale: Vec<_> = table.difference(&defined).collect();
        assert!(
            missing.is_empty(),
            "routes missing from metrics::routes::ROUTES: {missing:?}"
        );
        assert!(
            stale.is_empty(),
            "routes in ROUTES the source no longer defines: {stale:?}"
        );
    }
}
