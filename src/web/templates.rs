//! Page rendering: minijinja over the templates embedded from `templates/`.
//!
//! Every template is loaded at start, so a syntax error fails start-up (and the
//! test that builds this), not a request. Undefined variables are errors; HTML
//! and XML templates are auto-escaped.

use std::sync::Arc;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use rust_embed::RustEmbed;
use serde::Serialize;

use super::assets::Assets;
use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct TemplateFiles;

/// The globals every page sees as `site`.
#[derive(Debug, Clone, Serialize)]
pub struct SiteGlobals {
    pub name: String,
    pub tagline: String,
    pub base_url: String,
}

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

/// Escapes the five characters that matter in HTML and XML, and no others, so
/// URLs keep their slashes. With `xml`, also leaves out the characters XML 1.0
/// cannot carry (C0 controls but tab, line feed and carriage return; U+FFFE,
/// U+FFFF): one in a company name or a search's words (`/feed.xml?q=%01`)
/// would otherwise make the whole feed unreadable.
fn escape_into(out: &mut String, s: &str, xml: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if xml
                && ((c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
                    || matches!(c, '\u{fffe}' | '\u{ffff}')) => {}
            c => out.push(c),
        }
    }
}

impl Templates {
    /// Loads every embedded template.
    pub fn load(site: SiteGlobals, assets: Arc<Assets>) -> Result<Templates, AppError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".xml") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == AutoEscape::None || value.is_safe() {
                return minijinja::escape_formatter(out, state, value);
            }
            let mut buf = String::new();
            let xml = state.name().ends_with(".xml");
            if let Some(s) = value.as_str() {
                escape_into(&mut buf, s, xml);
            } else if value.is_none() || value.is_undefined() {
                // Nothing, as minijinja prints none.
                buf.push_str(if value.is_none() { "none" } else { "" });
            } else {
                escape_into(&mut buf, &value.to_string(), xml);
            }
            out.write_str(&buf).map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write")
            })
        });
        for name in TemplateFiles::iter() {
            let file = TemplateFiles::get(&name)
                .ok_or_else(|| AppError::internal(format!("template {name} vanished")))?;
            let source = String::from_utf8(file.data.into_owned())
                .map_err(|_| AppError::internal(format!("template {name} is not UTF-8")))?;
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| AppError::internal(format!("template {name}: {e}")))?;
        }
        env.add_global("site", Value::from_serialize(&site));
        env.add_filter("sentence", sentence);
        env.add_function(
            "asset",
            move |path: &str| -> Result<String, minijinja::Error> {
                assets.url(path).map(str::to_string).ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("no asset {path}"),
                    )
                })
            },
        );
        Ok(Templates { env })
    }

    /// Renders a template with a context.
    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String, AppError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| AppError::internal(format!("rendering {name}: {e:#}")))
    }

    /// The names of every loaded template.
    pub fn names(&self) -> Vec<String> {
        self.env.templates().map(|(n, _)| n.to_string()).collect()
    }
}
/// A validation message as a sentence beside its field: capital first
/// letter, full stop ("is required" → "Is required.").
fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn xml_output_leaves_out_what_xml_cannot_carry() {
        let mut html = String::new();
        escape_into(&mut html, "a\u{1}<b>\t\u{ffff}", false);
        assert_eq!(html, "a\u{1}&lt;b&gt;\t\u{ffff}");
        let mut xml = String::new();
        escape_into(&mut xml, "a\u{0}\u{1b}<b>\t\n\r\u{fffe}\u{7f}é", true);
        assert_eq!(xml, "a&lt;b&gt;\t\n\r\u{7f}é");
    }
}
