//! URL slugs: transliterated to ASCII, lowercase words joined by `-`.

/// The longest slug we make, in bytes; longer ones are cut at a word boundary.
const MAX_LEN: usize = 80;

/// `"Café & Crème — Senior Dev"` → `"cafe-creme-senior-dev"`; may be empty.
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut out = String::with_capacity(ascii.len());
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if out.len() + word.len() + 1 > MAX_LEN && !out.is_empty() {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    out.truncate(MAX_LEN);
    out.trim_end_matches('-').to_string()
}

/// A job's slug: as [`slugify`], or `job` when nothing is left.
pub fn job_slug(title: &str) -> String {
    let s = slugify(title);
    if s.is_empty() { "job".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates() {
        assert_eq!(
            slugify("Café & Crème — Senior Dev"),
            "cafe-creme-senior-dev"
        );
        assert_eq!(slugify("DevOps & Sysadmin"), "devops-sysadmin");
        assert_eq!(
            slugify("統一資訊 iOS 工程師"),
            "tong-yi-zi-xun-ios-gong-cheng-shi"
        );
        assert_eq!(job_slug("!!!"), "job");
        assert_eq!(job_slug(""), "job");
        assert!(slugify(&"word ".repeat(100)).len() <= MAX_LEN);
    }
}
