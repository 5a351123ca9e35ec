//! Markdown descriptions (src/markdown.rs): any text renders without a panic;
//! the HTML is safe to mark safe in templates (no script, style or embedding
//! element, no event handler or style attribute, no link or source whose URL
//! runs script, every link with our `rel`), and well-formed enough that the
//! browser reads the same tags (every `<` in text is escaped); the plain text
//! is folded; a summary is a prefix of the text, at most `max` characters plus
//! the ellipsis.
//!
//! Input: the first byte is `max` for `summary`, the rest the Markdown.

#![no_main]

use jobboard::markdown::{summary, to_html, to_text};
use libfuzzer_sys::fuzz_target;

/// Elements that run script, load other documents or style the page.
const FORBIDDEN: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "img", "svg",
    "math", "form", "input", "button", "textarea", "select", "link", "meta", "base", "template",
    "noscript", "video", "audio", "source", "picture",
];

/// Attributes holding a URL.
const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "cite",
    "action",
    "formaction",
    "poster",
    "xlink:href",
];

/// What a browser makes of an attribute value: entities decoded (the
/// serialiser writes only these three), and the tab, newline and leading
/// control characters or spaces that URL parsing drops, dropped.
fn as_browser_url(value: &str) -> String {
    let decoded = value
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    decoded
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// A URL with a scheme must have one of ours; a relative one is fine. As
/// browsers parse URLs, a scheme is a letter and then letters, digits, `+`,
/// `-` or `.` up to a `:`; anything else makes the URL relative.
fn check_url(url: &str, html: &str) {
    let Some(colon) = url.find(':') else {
        return;
    };
    let scheme = &url[..colon];
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if is_scheme {
        let scheme = scheme.to_ascii_lowercase();
        assert!(
            matches!(scheme.as_str(), "http" | "https" | "mailto"),
            "URL with scheme {scheme:?} in {html:?}"
        );
    }
}

/// Reads the serialised HTML tag by tag and checks each one.
fn check_html(html: &str) {
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        let closing = rest.starts_with('/');
        let body = if closing { &rest[1..] } else { rest };
        let name_len = body
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .unwrap_or(body.len());
        let name = &body[..name_len];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "an unescaped `<` or odd tag name {name:?} in {html:?}"
        );
        assert!(
            !FORBIDDEN.contains(&name),
            "forbidden element <{name}> in {html:?}"
        );
        let mut attrs = &body[name_len..];
        let mut rel_ok = false;
        let mut has_href = false;
        // Attributes: ` name="value"` (values are always double-quoted and
        // escaped by the serialiser), up to `>`.
        loop {
            attrs = attrs.trim_start();
            if let Some(after) = attrs.strip_prefix('>') {
                rest = after;
                break;
            }
            assert!(!closing, "attributes on a closing tag in {html:?}");
            let eq = attrs
                .find('=')
                .unwrap_or_else(|| panic!("an attribute without a value in {html:?}"));
            let attr = &attrs[..eq];
            assert!(
                !attr.is_empty()
                    && attr
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-' || c == ':'),
                "odd attribute name {attr:?} in {html:?}"
            );
            assert!(
                !attr.starts_with("on") && attr != "style" && attr != "srcdoc",
                "attribute {attr:?} in {html:?}"
            );
            let value_and_rest = attrs[eq + 1..]
                .strip_prefix('"')
                .unwrap_or_else(|| panic!("an unquoted attribute value in {html:?}"));
            let close = value_and_rest
                .find('"')
                .unwrap_or_else(|| panic!("an unclosed attribute value in {html:?}"));
            let value = &value_and_rest[..close];
            if URL_ATTRS.contains(&attr) {
                check_url(&as_browser_url(value), html);
            }
            if name == "a" && attr == "href" {
                has_href = true;
            }
            if name == "a" && attr == "rel" {
                rel_ok = value == "nofollow noopener noreferrer ugc";
            }
            attrs = &value_and_rest[close + 1..];
        }
        assert!(!has_href || rel_ok, "a link without our rel in {html:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&max, markdown)) = data.split_first() else {
        return;
    };
    let Ok(markdown) = std::str::from_utf8(markdown) else {
        return;
    };
    let max = usize::from(max);

    check_html(&to_html(markdown));

    let text = to_text(markdown);
    assert_eq!(
        text,
        text.split_whitespace().collect::<Vec<_>>().join(" "),
        "text not folded"
    );

    let s = summary(markdown, max);
    if text.chars().count() <= max {
        assert_eq!(s, text, "a short text is its own summary");
    } else {
        let body = s
            .strip_suffix('…')
            .unwrap_or_else(|| panic!("a cut summary ends with an ellipsis: {s:?}"));
        assert!(
            text.starts_with(body),
            "summary {s:?} is not a prefix of {text:?}"
        );
        assert!(
            body.chars().count() <= max,
            "summary {s:?} longer than {max} characters"
        );
    }
});
