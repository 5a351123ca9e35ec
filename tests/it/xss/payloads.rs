//! The hostile values of the sweep. Each is one payload family put into one
//! field, entered one way, and carries a marker naming all three: `X` + the
//! way in (one letter) + the field (two) + the family (two), such as
//! `Xftisc` for a `<script>` in the title typed into the `/post` form. A
//! finding quotes the markers it sees, so it names what got through.

/// Payload families: `(code, what)`.
pub const FAMILIES: &[(&str, &str)] = &[
    ("sc", "<script> element"),
    ("im", "attribute break-out with <img onerror>"),
    ("sq", "single-quote break-out ('-alert(1)-', onfocus)"),
    ("js", "javascript: URL"),
    ("es", "</script> and comment break-out"),
    ("rt", "</title></textarea> break-out with <svg onload>"),
    ("tp", "template injection {{7*7}}"),
    ("cd", "XML CDATA end ]]> and <![CDATA["),
    ("ls", "U+2028/U+2029 line separators in a JS string"),
    ("jn", "JSON-breaking quotes and backslashes with </script>"),
    ("st", "</style> and CSS url(javascript:)"),
    ("cr", "CRLF header injection (Bcc:)"),
    ("en", "entity tricks (&lt;script&gt;, &#x3C;)"),
    ("ct", "control characters (NUL, ESC, U+FFFE)"),
];

/// Ways in: `(letter, what)`.
const PATHS: &[(char, &str)] = &[
    ('f', "the /post form"),
    ('d', "the dashboard's edit form"),
    ('a', "POST /api/v1/jobs"),
    ('i', "jobboard import"),
    ('p', "the company profile form"),
    ('u', "a form"),
    ('e', "a refused form"),
    ('r', "a query string"),
];

/// Fields: `(code, what)`; `m?` are the Markdown attacks of [`MARKDOWN`].
const FIELDS: &[(&str, &str)] = &[
    ("ti", "title"),
    ("co", "company name"),
    ("ws", "company website"),
    ("de", "description"),
    ("lo", "location"),
    ("au", "apply URL"),
    ("ae", "apply email"),
    ("lg", "company logo URL"),
    ("tg", "tags"),
    ("tz", "timezones"),
    ("cu", "salary currency"),
    ("pe", "salary period"),
    ("ca", "category"),
    ("jt", "job type"),
    ("re", "remote regions"),
    ("sm", "salary minimum"),
    ("fn", "a form field's name"),
    ("em", "employer email"),
    ("tk", "API token name"),
    ("rr", "rejection reason"),
    ("cn", "company profile name"),
    ("cw", "company profile website"),
    ("aq", "alert words (q)"),
    ("at", "alert tags"),
    ("al", "alert email"),
    ("sq", "search words (q)"),
    ("nx", "next parameter"),
    ("ao", "admin owner filter"),
    ("aj", "admin job filter"),
];

/// A hostile value and what it is.
#[derive(Debug, Clone)]
pub struct Hostile {
    pub marker: String,
    pub value: String,
}

impl Hostile {
    pub fn new(marker: String, value: String) -> Hostile {
        Hostile { marker, value }
    }

    /// The value as the job input stores it: control characters XML cannot
    /// carry dropped, trimmed.
    pub fn stored(&self) -> String {
        stored(&self.value)
    }

    /// As a title is stored: also with its whitespace folded.
    pub fn stored_title(&self) -> String {
        stored(&self.value)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Text as the job input keeps it (see `jobs::input::without_controls`).
pub fn stored(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            !((c.is_control() && c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
                || matches!(c, '\u{fffe}' | '\u{ffff}'))
        })
        .collect::<String>()
        .trim()
        .to_string()
}

pub fn marker(path: char, field: &str, family: &str) -> String {
    format!("X{path}{field}{family}")
}

/// What a marker stands for, in words: "title via the /post form: <script> element".
pub fn describe(marker: &str) -> String {
    let chars: Vec<char> = marker.chars().collect();
    if chars.len() != 6 {
        return marker.to_string();
    }
    let path = chars[1].to_ascii_lowercase();
    let field: String = chars[2..4].iter().collect::<String>().to_ascii_lowercase();
    let family: String = chars[4..6].iter().collect::<String>().to_ascii_lowercase();
    let path = PATHS
        .iter()
        .find(|(p, _)| *p == path)
        .map_or("?", |(_, w)| w);
    let field = match field.strip_prefix('m') {
        Some(k) => MARKDOWN.iter().find(|(code, _, _)| *code == k).map_or_else(
            || field.clone(),
            |(_, what, _)| format!("Markdown attack \"{what}\""),
        ),
        None => FIELDS
            .iter()
            .find(|(f, _)| *f == field)
            .map_or_else(|| field.clone(), |(_, w)| w.to_string()),
    };
    let family = FAMILIES
        .iter()
        .find(|(f, _)| *f == family)
        .map_or(family.as_str(), |(_, w)| w);
    format!("{marker} = {field} via {path}, payload {family}")
}

/// The payload of a family for a text field, carrying `m`. At most about
/// 100 characters with a six-character marker (token names take 100).
pub fn text(family: &str, m: &str) -> String {
    match family {
        "sc" => format!("{m}<script>alert('{m}')</script>"),
        "im" => format!("{m}\"><img src=x onerror=alert('{m}')>"),
        "sq" => format!("{m}'-alert('{m}')-'' onfocus='alert(1)' autofocus x='"),
        "js" => format!("javascript:alert('{m}')//{m}"),
        "es" => format!("{m}--></script><script>alert('{m}')</script><!--"),
        "rt" => format!("{m}</title></textarea></noscript><svg onload=alert('{m}')>"),
        "tp" => format!("{m}{{{{7*7}}}}{{%raw%}}${{7*7}}#{{7*7}}<%= 7*7 %>"),
        "cd" => format!("{m}]]><![CDATA[<script>alert('{m}')</script>]]>"),
        "ls" => format!("{m}\u{2028}';alert('{m}')//\u{2029}\"</script>"),
        "jn" => format!("{m}\"}}]}},\"@type\":\"x\\\"\\u003c/script>\\</script><b>{m}</b>"),
        "st" => format!("{m}</style><style>*{{background:url(javascript:alert('{m}'))}}</style>"),
        "cr" => format!("{m}\r\nBcc: {m}@evil.example\r\nX-Injected: {m}"),
        "en" => format!(
            "{m}&lt;script&gt;alert('{m}')&lt;/script&gt;&#x3C;img src=x onerror=alert(1)&#x3E;"
        ),
        "ct" => format!("{m}\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}[31m\u{7f}\u{fffe}\u{ffff}<b>{m}</b>"),
        other => panic!("no payload family {other}"),
    }
}

/// The payload of a family for an http(s) URL field: accepted by the
/// board's URL check (no whitespace or control characters), still hostile
/// in an attribute.
pub fn url(family: &str, m: &str) -> String {
    let path = match family {
        "sc" => format!("{m}<script>alert('{m}')</script>"),
        "im" => format!("{m}\"><img/src=x/onerror=alert('{m}')>"),
        "sq" => format!("{m}'onmouseover='alert(1)'x='"),
        "js" => format!("{m}?u=javascript:alert('{m}')"),
        "es" => format!("{m}--></script><script>alert('{m}')</script>"),
        "rt" => format!("{m}</title></textarea><svg/onload=alert('{m}')>"),
        "tp" => format!("{m}?q={{{{7*7}}}}&r={{%raw%}}"),
        "cd" => format!("{m}]]><![CDATA[<b>{m}</b>"),
        "ls" => format!("{m}%E2%80%A8';alert('{m}')//"),
        "jn" => format!("{m}\"}}]}},\"x\":\"\\</script><b>{m}</b>"),
        "st" => format!("{m}</style><style>*{{x:url(javascript:alert(1))}}</style>"),
        "cr" => format!("{m}%0D%0ABcc:{m}@evil.example"),
        "en" => format!("{m}&lt;script&gt;&#x3C;b&#x3E;{m}&amp;"),
        "ct" => format!("{m}%00%01%1B[31m"),
        other => panic!("no payload family {other}"),
    };
    format!("https://evil.example/{path}")
}

/// An address the board's email check accepts, as hostile as an address
/// can be (quote, braces, ampersand, slash, equals).
pub fn email(m: &str, domain: &str) -> String {
    format!("{}'{{{{7*7}}}}&=?^_`|~#$%*+/!-@{domain}", m.to_lowercase())
}

/// Markdown attacks on the sanitiser: `(code, what, source with `{m}`)`.
/// `{m}` is replaced by the attack's marker. Those that show text come
/// first, and the two that leave the HTML parser inside foreign content
/// last: the sanitiser rightly drops what follows them.
pub const MARKDOWN: &[(&str, &str, &str)] = &[
    (
        "j",
        "entity-encoded <script> as text",
        "&lt;script&gt;alert('{m}')&lt;/script&gt;",
    ),
    (
        "n",
        "code span holding a payload",
        "`<script>alert('{m}')</script>`",
    ),
    ("o", "template syntax", "{{7*7}} {m} {% raw %}"),
    ("0", "raw <script>", "<script>alert('{m}')</script>"),
    (
        "1",
        "raw <img onerror>",
        "<img src=\"x\" onerror=\"alert('{m}')\">",
    ),
    (
        "2",
        "javascript: link",
        "[{m} link](javascript:alert('{m}'))",
    ),
    (
        "3",
        "javascript: link, mixed case and entity",
        "[{m} link](JaVaScRiPt&#x3A;alert('{m}'))",
    ),
    (
        "4",
        "javascript: link, entity-encoded j",
        "[{m} link](&#106;avascript:alert('{m}'))",
    ),
    (
        "5",
        "data: link",
        "[{m} link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ),
    ("6", "vbscript: link", "[{m} link](vbscript:msgbox('{m}'))"),
    ("7", "javascript: autolink", "<javascript:alert('{m}')>"),
    (
        "8",
        "autolink breaking its attribute",
        "<https://evil.example/{m}\"onmouseover=\"alert(1)>",
    ),
    (
        "9",
        "image with onerror in its URL",
        "![{m}](x\" onerror=\"alert('{m}')) ![{m}](javascript:alert('{m}'))",
    ),
    (
        "a",
        "<svg onload>",
        "<svg onload=\"alert('{m}')\"><circle r=\"1\"/></svg>",
    ),
    (
        "d",
        "data: URL in a raw <a>",
        "<a href=\"data:text/html,<script>alert('{m}')</script>\">{m}</a>",
    ),
    (
        "e",
        "<iframe>, <object>, <embed>",
        "<iframe src=\"javascript:alert('{m}')\"></iframe><object data=\"javascript:alert('{m}')\"></object><embed src=\"javascript:alert('{m}')\">",
    ),
    (
        "f",
        "<form action> and formaction",
        "<form action=\"javascript:alert('{m}')\"><button formaction=\"javascript:alert('{m}')\">{m}</button></form>",
    ),
    (
        "g",
        "<style> and style attribute",
        "<style>*{background:red}</style><div style=\"background:url(javascript:alert('{m}'))\">{m}</div>",
    ),
    (
        "h",
        "<details ontoggle>",
        "<details open ontoggle=\"alert('{m}')\"><summary>{m}</summary></details>",
    ),
    (
        "i",
        "javascript: reference link",
        "[{m} ref][r{m}]\n\n[r{m}]: javascript:alert('{m}')",
    ),
    (
        "k",
        "<meta refresh> and <base>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('{m}')\"><base href=\"javascript:alert('{m}')//\">",
    ),
    (
        "l",
        "link title breaking its attribute",
        "[{m}](https://evil.example/ \"\\\" onmouseover=\\\"alert('{m}')\")",
    ),
    (
        "m",
        "comment and CDATA",
        "<!-- {m} --><![CDATA[<script>alert('{m}')</script>]]>",
    ),
    (
        "p",
        "mXSS through <noscript> title",
        "<noscript><p title=\"</noscript><img src=x onerror=alert('{m}')>\"></noscript>",
    ),
    (
        "q",
        "obfuscated javascript: hrefs",
        "<a href=\"  javascript:alert('{m}')\">{m}</a> <a href=\"java&#x09;script:alert('{m}')\">{m}</a> <a href=\"&#x6A;avascript&colon;alert('{m}')\">{m}</a>",
    ),
    (
        "r",
        "<input autofocus onfocus>",
        "<input autofocus onfocus=\"alert('{m}')\"><select onfocus=\"alert('{m}')\" autofocus>",
    ),
    (
        "s",
        "srcset, poster, background",
        "<img srcset=\"javascript:alert('{m}')\"><video poster=\"javascript:alert('{m}')\"></video><table background=\"javascript:alert('{m}')\"><tr><td>{m}</td></tr></table>",
    ),
    (
        "t",
        "</script> in text",
        "</script><script>alert('{m}')</script>",
    ),
    (
        "b",
        "<svg><script>",
        "<svg><script>alert('{m}')</script></svg>",
    ),
    (
        "c",
        "mXSS through <math><style>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert('{m}')>",
    ),
];

/// The text a Markdown attack leaves visible, where it must show literally.
pub fn markdown_visible(code: &str, m: &str) -> Option<String> {
    match code {
        "j" | "n" => Some(format!("<script>alert('{m}')</script>")),
        "o" => Some(format!("{{{{7*7}}}} {m} {{% raw %}}")),
        _ => None,
    }
}

/// A description: a canary paragraph, each of `spans` in a code span (so
/// its words are searchable and it shows literally), the family's payload
/// as raw Markdown, and every Markdown attack. Returns the source, the
/// canary and what must show literally.
pub fn description(path: char, family: &str, spans: &[&str]) -> (String, Vec<String>) {
    let canary = format!("Canary {} for {family}.", marker(path, "de", family));
    let mut doc = format!("{canary}\n\n");
    let mut visible = vec![canary];
    for s in spans {
        // A code span folds line ends; the payloads hold no backticks.
        doc.push_str(&format!("`{s}`\n\n"));
        visible.push(s.to_string());
    }
    doc.push_str(&text(family, &marker(path, "de", family)));
    doc.push_str("\n\n");
    for (code, _, source) in MARKDOWN {
        let m = marker(path, &format!("m{code}"), family);
        doc.push_str(&source.replace("{m}", &m));
        doc.push_str("\n\n");
        if let Some(v) = markdown_visible(code, &m) {
            visible.push(v);
        }
    }
    (doc, visible)
}
