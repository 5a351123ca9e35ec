//! Markdown descriptions: rendered to HTML and sanitised (the only HTML from
//! users that templates mark safe), and stripped to plain text for summaries.

use std::sync::OnceLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.link_rel(Some("nofollow noopener noreferrer ugc"))
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            // Remote images would be third-party requests from our pages.
            .rm_tags(["img"]);
        b
    })
}

/// Renders Markdown to sanitised HTML.
pub fn to_html(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    sanitizer().clean(&raw).to_string()
}

/// The text of a Markdown document without its markup, whitespace folded.
pub fn to_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::Rule => out.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell,
            ) => out.push(' '),
            Event::Start(Tag::Item) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `max` characters of the text, cut at a word with an ellipsis.
pub fn summary(markdown: &str, max: usize) -> String {
    let text = to_text(markdown);
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    // Cut at the last word when that keeps more than half (in characters).
    let cut = match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_sanitises() {
        let html = to_html("## Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) **b**");
        assert!(html.contains("<h2>Hi</h2>"));
        assert!(html.contains("<strong>b</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        let link = to_html("[site](https://example.org)");
        assert!(
            link.contains("rel=\"nofollow noopener noreferrer ugc\""),
            "{link}"
        );
        assert!(!to_html("![x](https://evil.example/a.png)").contains("<img"));
        assert!(!to_html("<img src=x onerror=alert(1)>").contains("onerror"));
    }

    #[test]
    fn strips_to_text() {
        assert_eq!(
            to_text("# Title\n\nSome *bold* text.\n\n- a\n- b"),
            "Title Some bold text. a b"
        );
        assert_eq!(summary("one two three four five", 10), "one two…");
        // A word ending before half the characters is cut through instead,
        // however many bytes its letters take.
        assert_eq!(summary("工工 abcdefghijk", 10), "工工 abcdefg…");
        assert_eq!(summary("工程師工程師 abcdefghijk", 10), "工程師工程師…");
    }
}
