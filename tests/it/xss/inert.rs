//! Whether hostile values came out inert. Each page is parsed as a browser
//! parses it (html5ever, through scraper), each feed as a feed reader does
//! (roxmltree), each email as a mail client would (headers, then the HTML
//! part as a page). Nothing in the tree may come from a value: no element or
//! attribute a template does not make, no script but the JSON-LD blocks, no
//! `on*` attribute, no `javascript:`/`data:`/`vbscript:` URL, no `<style>`.
//! And every value a page shows must be there as text (or an attribute's
//! value), whole: a value that vanished or was mangled is a finding too.

use std::cell::RefCell;

use scraper::{ElementRef, Html, Node, Selector};
use serde_json::Value;

use super::payloads::{self, Hostile};
use crate::common::mail;
use crate::common::smtp::Received;

/// Elements the templates make, and those the Markdown sanitiser (ammonia's
/// defaults without `img`) lets through.
const ELEMENTS: &[&str] = &[
    // the page frame and forms
    "html",
    "head",
    "body",
    "title",
    "meta",
    "link",
    "header",
    "footer",
    "main",
    "nav",
    "section",
    "aside",
    "article",
    "div",
    "span",
    "p",
    "a",
    "img",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "form",
    "label",
    "input",
    "textarea",
    "select",
    "option",
    "button",
    "fieldset",
    "legend",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "time",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "mark",
    "br",
    "hr",
    "small",
    // ammonia's defaults
    "abbr",
    "acronym",
    "area",
    "bdi",
    "bdo",
    "blockquote",
    "center",
    "cite",
    "col",
    "colgroup",
    "data",
    "del",
    "details",
    "dfn",
    "figcaption",
    "figure",
    "hgroup",
    "ins",
    "kbd",
    "map",
    "q",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "strike",
    "sub",
    "summary",
    "sup",
    "tt",
    "u",
    "var",
    "wbr",
];

/// Attributes the templates (and ammonia's defaults) use.
const ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "name",
    "content",
    "property",
    "rel",
    "href",
    "type",
    "title",
    "class",
    "id",
    "src",
    "alt",
    "width",
    "height",
    "loading",
    "decoding",
    "role",
    "method",
    "action",
    "novalidate",
    "for",
    "value",
    "required",
    "autocomplete",
    "maxlength",
    "inputmode",
    "placeholder",
    "tabindex",
    "rows",
    "selected",
    "checked",
    "disabled",
    "datetime",
    "min",
    "step",
    "accept",
    "enctype",
    "scope",
    "colspan",
    "rowspan",
    "start",
    "hreflang",
    "align",
    "char",
    "charoff",
    "span",
    "summary",
    "headers",
    "dir",
    "cite",
    "abbr",
    "xmlns",
];

/// Attributes holding a URL a browser may follow or load.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "background",
    "data",
    "srcset",
    "cite",
    "longdesc",
    "ping",
    "lowsrc",
    "dynsrc",
    "codebase",
    "manifest",
    "icon",
];

/// What kind of HTML a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A page of the board.
    Page,
    /// The HTML part of an email (our inline `style` attributes are fine).
    Email,
    /// HTML inside a feed entry.
    Fragment,
}

/// What the JSON-LD of a job page must say.
pub struct JsonLd {
    pub title: String,
    pub company: String,
    pub website: Option<String>,
    pub location: Option<String>,
    pub description_html: String,
}

/// Everything found, and how much was looked at.
#[derive(Default)]
pub struct Findings {
    list: RefCell<Vec<String>>,
    markers: RefCell<Vec<String>>,
    pub pages: RefCell<usize>,
    pub feeds: RefCell<usize>,
    pub emails: RefCell<usize>,
    pub json: RefCell<usize>,
    pub answers: RefCell<usize>,
    pub values: RefCell<usize>,
}

/// Whitespace folded, control characters (and what parsers make of them)
/// left out: how a value is compared with what a page shows.
pub fn norm(s: &str) -> String {
    s.chars()
        .filter(|&c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .filter(|c| !matches!(c, '\u{fffd}' | '\u{fffe}' | '\u{ffff}'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A URL as a browser reads its scheme: surrounding spaces and controls
/// gone, tabs and line ends inside ignored, lower case.
fn scheme_of(url: &str) -> String {
    url.trim_matches(|c: char| c.is_whitespace() || c.is_control())
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .to_ascii_lowercase()
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(300).collect();
    s.replace('\n', "\\n").replace('\r', "\\r")
}

impl Findings {
    /// Makes a hostile value and remembers its marker.
    pub fn hostile(&self, marker: String, value: String) -> Hostile {
        self.markers.borrow_mut().push(marker.clone());
        *self.values.borrow_mut() += 1;
        Hostile::new(marker, value)
    }

    /// Remembers markers made outside [`Findings::hostile`].
    pub fn remember(&self, marker: &str) {
        self.markers.borrow_mut().push(marker.to_string());
    }

    /// A finding on `place`, naming the hostile values whose markers are in
    /// `evidence`.
    pub fn fail(&self, place: &str, problem: &str, evidence: &str) {
        let lower = evidence.to_lowercase();
        let mut names: Vec<String> = self
            .markers
            .borrow()
            .iter()
            .filter(|m| lower.contains(&m.to_lowercase()))
            .map(|m| payloads::describe(m))
            .collect();
        names.sort();
        names.dedup();
        let from = if names.is_empty() {
            "no marker in sight".to_string()
        } else {
            names.join("; ")
        };
        self.list.borrow_mut().push(format!(
            "{place}: {problem}\n      from: {from}\n      seen: {}",
            short(evidence)
        ));
    }

    pub fn count(&self) -> usize {
        self.list.borrow().len()
    }

    /// Fails the test with every finding.
    pub fn assert_none(&self) {
        let list = self.list.borrow();
        for finding in list.iter() {
            eprintln!("finding: {finding}");
        }
        if !list.is_empty() {
            let shown: Vec<&String> = list.iter().take(40).collect();
            panic!(
                "{} XSS sweep finding(s){}:\n  - {}",
                list.len(),
                if list.len() > 40 { " (first 40)" } else { "" },
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  - ")
            );
        }
    }

    /// Checks a page: the tree, its JSON-LD, and that each of `shown`
    /// is there literally. Returns the JSON-LD documents it holds.
    pub fn html(&self, place: &str, body: &str, kind: Kind, shown: &[&str]) -> Vec<Value> {
        if kind != Kind::Email {
            *self.pages.borrow_mut() += 1;
        }
        self.evaluated(place, body);
        let doc = match kind {
            Kind::Fragment => Html::parse_fragment(body),
            _ => Html::parse_document(body),
        };
        let mut haystack: Vec<String> = Vec::new();
        let mut json_ld = Vec::new();
        for node in doc.tree.nodes() {
            match node.value() {
                Node::Text(t) => {
                    let in_script = node
                        .parent()
                        .and_then(ElementRef::wrap)
                        .is_some_and(|p| p.value().name() == "script");
                    if !in_script {
                        haystack.push(norm(t));
                    }
                }
                Node::Element(e) => {
                    let el = ElementRef::wrap(node).expect("an element");
                    let name = e.name();
                    let outer = el.html();
                    for (attr, value) in e.attrs() {
                        haystack.push(norm(value));
                        self.attribute(place, kind, name, attr, value, &outer);
                    }
                    if name == "script" {
                        match self.script(place, kind, &el) {
                            Some(v) => json_ld.push(v),
                            None => self.fail(place, "a <script> element", &outer),
                        }
                        continue;
                    }
                    if name == "style" {
                        self.fail(place, "a <style> element", &outer);
                    } else if !ELEMENTS.contains(&name) {
                        self.fail(
                            place,
                            &format!("a <{name}> element no template makes"),
                            &outer,
                        );
                    }
                    if name == "meta" && e.attr("http-equiv").is_some() {
                        self.fail(place, "a <meta http-equiv>", &outer);
                    }
                    if name == "form" {
                        let action = e.attr("action").unwrap_or("");
                        if !(action.starts_with('/') && !action.starts_with("//")
                            || action.starts_with("https://board.example/"))
                        {
                            self.fail(place, "a form posting off the board", &outer);
                        }
                    }
                    if name == "img" {
                        let src = e.attr("src").unwrap_or("");
                        if !(src.starts_with("/uploads/") || src.starts_with("/assets/")) {
                            self.fail(place, "an image from off the board", &outer);
                        }
                    }
                    if name == "link" {
                        let href = e.attr("href").unwrap_or("");
                        if !(href.starts_with('/') && !href.starts_with("//")
                            || href.starts_with("https://board.example/"))
                        {
                            self.fail(place, "a <link> off the board", &outer);
                        }
                    }
                }
                Node::ProcessingInstruction(p) => {
                    self.fail(place, "a processing instruction", &format!("{p:?}"));
                }
                _ => {}
            }
        }
        for want in shown {
            let want = norm(want);
            if !haystack.iter().any(|h| h.contains(&want)) {
                self.fail(
                    place,
                    "a value it shows is missing or altered (not there as text)",
                    &want,
                );
            }
        }
        json_ld
    }

    /// Template syntax in a value must never run: `{marker}{{7*7}}` of the
    /// template family would read `…tp49`.
    pub fn evaluated(&self, place: &str, body: &str) {
        if let Some(at) = body.find("tp49") {
            let start = body[..at].char_indices().rev().nth(8).map_or(0, |(i, _)| i);
            self.fail(
                place,
                "template syntax in a value was evaluated ({{7*7}} became 49)",
                &body[start..(at + 4).min(body.len())],
            );
        }
    }

    fn attribute(
        &self,
        place: &str,
        kind: Kind,
        element: &str,
        attr: &str,
        value: &str,
        outer: &str,
    ) {
        let attr = attr.to_ascii_lowercase();
        if attr.starts_with("on") {
            self.fail(place, &format!("an event handler attribute {attr}"), outer);
            return;
        }
        if attr == "style" {
            // The emails' own inline styles hold no value.
            let lower = value.to_lowercase();
            let from_value = self
                .markers
                .borrow()
                .iter()
                .any(|m| lower.contains(&m.to_lowercase()));
            if kind != Kind::Email || from_value {
                self.fail(place, "a style attribute", outer);
            }
            return;
        }
        if matches!(attr.as_str(), "srcdoc" | "formaction" | "http-equiv") {
            self.fail(place, &format!("a {attr} attribute"), outer);
            return;
        }
        if URL_ATTRIBUTES.contains(&attr.as_str()) {
            let url = scheme_of(value);
            if ["javascript:", "data:", "vbscript:"]
                .iter()
                .any(|s| url.starts_with(s))
            {
                self.fail(
                    place,
                    &format!(
                        "a {} URL in {element} {attr}",
                        &url[..url.find(':').unwrap_or(0) + 1]
                    ),
                    outer,
                );
                return;
            }
        }
        if !(ATTRIBUTES.contains(&attr.as_str()) || attr.starts_with("aria-")) {
            self.fail(
                place,
                &format!("an attribute {attr} no template makes"),
                outer,
            );
        }
    }

    /// A script element is fine only as our JSON-LD in a page's head:
    /// returns its JSON then.
    fn script(&self, place: &str, kind: Kind, el: &ElementRef) -> Option<Value> {
        let e = el.value();
        if kind != Kind::Page
            || e.attr("type") != Some("application/ld+json")
            || e.attrs().count() != 1
        {
            return None;
        }
        let in_head = el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "head");
        if !in_head {
            return None;
        }
        let raw: String = el.text().collect();
        let lower = raw.to_lowercase();
        for bad in ["</script", "<script", "<!--", "-->"] {
            if lower.contains(bad) {
                self.fail(place, &format!("{bad} inside the JSON-LD"), &raw);
            }
        }
        *self.json.borrow_mut() += 1;
        match serde_json::from_str::<Value>(&raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(place, &format!("JSON-LD that is not JSON ({e})"), &raw);
                Some(Value::Null)
            }
        }
    }

    /// Checks a job page's JSON-LD against the job.
    pub fn json_ld(&self, place: &str, docs: &[Value], want: &JsonLd) {
        let [doc] = docs else {
            self.fail(
                place,
                &format!("{} JSON-LD blocks, not 1", docs.len()),
                &want.title,
            );
            return;
        };
        let place = format!("{place} JSON-LD");
        let same = |what: &str, got: &Value, want: &str| {
            if got.as_str() != Some(want) {
                self.fail(
                    &place,
                    &format!("{what} is {got}, not the value as data"),
                    want,
                );
            }
        };
        same("title", &doc["title"], &want.title);
        same(
            "hiringOrganization.name",
            &doc["hiringOrganization"]["name"],
            &want.company,
        );
        same("description", &doc["description"], &want.description_html);
        if let Some(w) = &want.website {
            same(
                "hiringOrganization.sameAs",
                &doc["hiringOrganization"]["sameAs"],
                w,
            );
        }
        if let Some(l) = &want.location {
            // "Lisbon, Portugal" is a locality and a country.
            let address = &doc["jobLocation"]["address"];
            let country = address["addressCountry"].as_str().unwrap_or("");
            let whole = match address["addressLocality"].as_str() {
                Some(locality) => format!("{locality}, {country}"),
                None => country.to_string(),
            };
            let bare = |s: &str| norm(s).replace(' ', "");
            if bare(&whole) != bare(l.trim().trim_matches(',')) {
                self.fail(
                    &place,
                    &format!("jobLocation is {address}, not the location as data"),
                    l,
                );
            }
        }
    }

    /// Checks a job page's head: its `<title>`, Open Graph title and
    /// descriptions hold the job's values as text.
    pub fn job_head(&self, place: &str, body: &str, title: &str, company: &str, summary: &str) {
        let doc = Html::parse_document(body);
        let first = |css: &str, attr: Option<&str>| -> String {
            let sel = Selector::parse(css).expect("a selector");
            doc.select(&sel)
                .next()
                .map(|e| match attr {
                    Some(a) => e.value().attr(a).unwrap_or("").to_string(),
                    None => e.text().collect(),
                })
                .unwrap_or_default()
        };
        let heading = norm(&format!("{title} at {company}"));
        let checks = [
            ("<title>", norm(&first("head > title", None)), true),
            (
                "og:title",
                norm(&first("meta[property='og:title']", Some("content"))),
                false,
            ),
        ];
        for (what, got, prefix) in checks {
            let ok = if prefix {
                got.starts_with(&heading)
            } else {
                got == heading
            };
            if !ok {
                self.fail(place, &format!("{what} reads {got:?}"), &heading);
            }
        }
        let summary = norm(summary);
        for css in [
            "meta[name='description']",
            "meta[property='og:description']",
        ] {
            let got = norm(&first(css, Some("content")));
            if got != summary {
                self.fail(place, &format!("{css} reads {got:?}"), &summary);
            }
        }
    }

    /// Checks an Atom feed or a sitemap: it parses, it is made only of its
    /// own elements, each of `shown` is text, and the HTML of each entry's
    /// content passes as a page fragment. Returns the sitemap locations.
    pub fn xml(&self, place: &str, body: &str, shown: &[&str]) -> Vec<String> {
        *self.feeds.borrow_mut() += 1;
        self.evaluated(place, body);
        let doc = match roxmltree::Document::parse(body) {
            Ok(d) => d,
            Err(e) => {
                let at = body
                    .char_indices()
                    .find(|(_, c)| c.is_control() && !c.is_whitespace())
                    .map_or(0, |(i, _)| i);
                let start = body[..at].rfind('<').unwrap_or(0);
                self.fail(
                    place,
                    &format!("not well-formed XML ({e})"),
                    &body[start..body.len().min(start + 400)],
                );
                return Vec::new();
            }
        };
        const ATOM: &str = "http://www.w3.org/2005/Atom";
        const SITEMAP: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
        const ATOM_NAMES: &[&str] = &[
            "feed",
            "id",
            "title",
            "updated",
            "link",
            "author",
            "name",
            "generator",
            "entry",
            "published",
            "category",
            "summary",
            "content",
        ];
        const SITEMAP_NAMES: &[&str] =
            &["urlset", "url", "loc", "lastmod", "sitemapindex", "sitemap"];
        let mut haystack = Vec::new();
        let mut locs = Vec::new();
        for node in doc.descendants() {
            if node.is_pi() {
                self.fail(place, "a processing instruction", node.text().unwrap_or(""));
            }
            if node.is_text() {
                haystack.push(norm(node.text().unwrap_or("")));
            }
            if !node.is_element() {
                continue;
            }
            let name = node.tag_name();
            let known = match name.namespace() {
                Some(ATOM) => ATOM_NAMES.contains(&name.name()),
                Some(SITEMAP) => SITEMAP_NAMES.contains(&name.name()),
                _ => false,
            };
            let text: String = node.text().unwrap_or("").to_string();
            if !known {
                self.fail(
                    place,
                    &format!("an element {:?} of no feed", name),
                    &format!("{:?}", node.range()),
                );
            }
            for a in node.attributes() {
                if !matches!(a.name(), "rel" | "type" | "href" | "term") || a.namespace().is_some()
                {
                    self.fail(
                        place,
                        &format!("an attribute {} of no feed", a.name()),
                        a.value(),
                    );
                }
                if a.name() == "href" && !a.value().starts_with("https://board.example/") {
                    self.fail(place, "a link off the board", a.value());
                }
            }
            match name.name() {
                "loc" => {
                    if !text.starts_with("https://board.example/") {
                        self.fail(place, "a sitemap location off the board", &text);
                    }
                    locs.push(text);
                }
                "content" if node.attribute("type") == Some("html") => {
                    self.html(
                        &format!("{place} entry content"),
                        &text,
                        Kind::Fragment,
                        &[],
                    );
                }
                _ => {}
            }
        }
        for want in shown {
            let want = norm(want);
            if !haystack.iter().any(|h| h.contains(&want)) {
                self.fail(place, "a value it carries is missing or altered", &want);
            }
        }
        locs
    }

    /// Checks an email: the envelope goes to `to` only, the headers are the
    /// board's own (none injected), the subject says `subject` once decoded,
    /// and both parts show each of `shown` (the HTML part as a page would).
    pub fn email(&self, place: &str, got: &Received, to: &str, subject: &str, shown: &[&str]) {
        *self.emails.borrow_mut() += 1;
        if got.to != [to.to_string()] {
            self.fail(
                place,
                &format!("sent to {:?}, not only {to}", got.to),
                &got.data,
            );
        }
        let (head, _) = got.data.split_once("\r\n\r\n").unwrap_or((&got.data, ""));
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let mut names = Vec::new();
        for line in unfolded.split("\r\n") {
            let Some((name, _)) = line.split_once(':') else {
                self.fail(place, "a header line without a name", line);
                continue;
            };
            const HEADERS: &[&str] = &[
                "from",
                "to",
                "subject",
                "date",
                "message-id",
                "mime-version",
                "content-type",
                "content-transfer-encoding",
                "list-unsubscribe",
                "list-unsubscribe-post",
            ];
            let name = name.to_ascii_lowercase();
            if !HEADERS.contains(&name.as_str()) || name.contains(' ') {
                self.fail(
                    place,
                    &format!("a header {name:?} the board does not send"),
                    line,
                );
            }
            names.push(name);
        }
        for one in ["from", "to", "subject"] {
            let n = names.iter().filter(|n| *n == one).count();
            if n != 1 {
                self.fail(place, &format!("{n} {one} headers"), head);
            }
        }
        let raw_subject = unfolded
            .split("\r\n")
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("subject"))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default();
        let decoded = decode_words(&raw_subject);
        if norm(&decoded) != norm(subject) {
            self.fail(
                place,
                &format!("the subject reads {decoded:?}, not {subject:?}"),
                &raw_subject,
            );
        }
        let parsed = mail::parse(&got.data);
        self.evaluated(place, &parsed.text);
        if parsed.html.is_empty() || parsed.text.is_empty() {
            self.fail(place, "not both an HTML and a text part", &got.data);
        }
        self.html(
            &format!("{place} (HTML part)"),
            &parsed.html,
            Kind::Email,
            shown,
        );
        let text = norm(&parsed.text);
        for want in shown {
            let want = norm(want);
            if !text.contains(&want) {
                self.fail(
                    &format!("{place} (text part)"),
                    "a value it carries is missing or altered",
                    &want,
                );
            }
        }
    }
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); the
/// whitespace between two encoded words goes.
pub fn decode_words(s: &str) -> String {
    let mut out = Vec::<u8>::new();
    let mut rest = s;
    let mut last_was_word = false;
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            out.extend_from_slice(rest.as_bytes());
            break;
        };
        let before = &rest[..start];
        if !(last_was_word && before.trim().is_empty()) {
            out.extend_from_slice(before.as_bytes());
        }
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let (Some(enc), Some(tail)) = (parts.get(1), parts.get(2)) else {
            out.extend_from_slice(&rest.as_bytes()[start..]);
            break;
        };
        let Some(end) = tail.find("?=") else {
            out.extend_from_slice(&rest.as_bytes()[start..]);
            break;
        };
        let data = &tail[..end];
        match enc.to_ascii_lowercase().as_str() {
            "b" => out.extend(crate::common::mail::base64_bytes(data)),
            _ => {
                let bytes = data.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b'_' => out.push(b' '),
                        b'=' if i + 3 <= bytes.len() => {
                            let hex = &data[i + 1..i + 3];
                            out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                            i += 2;
                        }
                        b => out.push(b),
                    }
                    i += 1;
                }
            }
        }
        let consumed = start + 2 + parts[0].len() + 1 + enc.len() + 1 + end + 2;
        rest = &rest[consumed..];
        last_was_word = true;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn encoded_words_decode() {
    assert_eq!(
        decode_words("=?utf-8?b?SGVsbG8=?= =?utf-8?b?IHdvcmxk?="),
        "Hello world"
    );
    assert_eq!(decode_words("Plain"), "Plain");
    assert_eq!(decode_words("=?UTF-8?Q?a=3Cb_c?="), "a<b c");
}
