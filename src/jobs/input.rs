//! Job input (SPEC §5): the shape the API, the import and (later) forms accept,
//! and its validation into a [`NewJob`] with a message per field.

use serde::Deserialize;
use serde_json::Value;

use super::model::{JobType, Region, Salary, SalaryPeriod, Status};
use crate::config::Category;
use crate::error::{AppError, FieldErrors};

/// The job input shape, loosely typed so each field gets its own message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JobInput {
    pub title: Option<Value>,
    pub company: Option<Value>,
    pub company_name: Option<Value>,
    pub company_website: Option<Value>,
    pub company_logo_url: Option<Value>,
    pub description: Option<Value>,
    pub category: Option<Value>,
    pub job_type: Option<Value>,
    pub tags: Option<Value>,
    pub remote: Option<Value>,
    pub timezones: Option<Value>,
    pub location: Option<Value>,
    pub salary_min: Option<Value>,
    pub salary_max: Option<Value>,
    pub salary_currency: Option<Value>,
    pub salary_period: Option<Value>,
    pub apply_url: Option<Value>,
    pub apply_email: Option<Value>,
    pub featured: Option<Value>,
    /// Honoured by `import` only (for round trips with `export`).
    pub status: Option<Value>,
    pub published_at: Option<Value>,
    pub expires_at: Option<Value>,
}

/// A company as a job's input names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyInput {
    pub name: String,
    pub website: Option<String>,
    pub logo_url: Option<String>,
}

/// A validated job, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub title: String,
    pub company: CompanyInput,
    pub description: String,
    pub category: String,
    pub job_type: JobType,
    pub tags: Vec<String>,
    pub remote: Vec<Region>,
    pub timezones: Option<String>,
    pub location: Option<String>,
    pub salary: Option<Salary>,
    pub apply_url: Option<String>,
    pub apply_email: Option<String>,
    pub featured: bool,
    pub status: Option<Status>,
    pub published_at: Option<i64>,
    pub expires_at: Option<i64>,
}

pub const MAX_TAGS: usize = 10;
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 100_000;
/// 3000-01-01T00:00:00Z: input times end before it.
const LATEST_TIME: i64 = 32_503_680_000;

/// Text without the characters XML 1.0 cannot carry (C0 controls but tab,
/// line feed and carriage return; U+FFFE and U+FFFF): real postings have a
/// stray one now and then, and one in a title would break every feed.
fn without_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
            || matches!(c, '\u{fffe}' | '\u{ffff}')
    };
    if s.chars().any(bad) {
        std::borrow::Cow::Owned(s.chars().filter(|&c| !bad(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Collects messages while reading fields.
struct Check {
    errors: FieldErrors,
}

impl Check {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    /// An optional text field: trimmed, empty as absent, at most `max`
    /// characters, without control characters (they break XML feeds).
    fn text(&mut self, field: &str, value: Option<&Value>, max: usize) -> Option<String> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let cleaned = without_controls(s);
                let s = cleaned.trim();
                if s.is_empty() {
                    None
                } else if s.chars().count() > max {
                    self.fail(field, format!("must be at most {max} characters"));
                    None
                } else {
                    Some(s.to_string())
                }
            }
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                self.fail(field, "must be text");
                None
            }
        }
    }

    fn required(&mut self, field: &str, value: Option<&Value>, max: usize) -> String {
        let v = self.text(field, value, max);
        if v.is_none() && !self.errors.contains_key(field) {
            self.fail(field, "is required");
        }
        v.unwrap_or_default()
    }

    fn integer(&mut self, field: &str, value: Option<&Value>) -> Option<i64> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) if i >= 0 => Some(i),
                _ => {
                    // Whole numbers written as 5000.0 are fine.
                    match n.as_f64() {
                        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e15 => Some(f as i64),
                        _ => {
                            self.fail(field, "must be a whole number of 0 or more");
                            None
                        }
                    }
                }
            },
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => match s.trim().replace([',', '_'], "").parse::<i64>() {
                Ok(i) if i >= 0 => Some(i),
                _ => {
                    self.fail(field, "must be a whole number of 0 or more");
                    None
                }
            },
            Some(_) => {
                self.fail(field, "must be a whole number of 0 or more");
                None
            }
        }
    }

    /// A list given as a JSON array or a comma-separated string.
    fn list(&mut self, field: &str, value: Option<&Value>) -> Vec<String> {
        match value {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                        Value::String(_) => {}
                        _ => {
                            self.fail(field, "must be a list of text");
                            return Vec::new();
                        }
                    }
                }
                out
            }
            Some(_) => {
                self.fail(field, "must be a list of text");
                Vec::new()
            }
        }
    }

    fn boolean(&mut self, field: &str, value: Option<&Value>) -> bool {
        match value {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if matches!(s.as_str(), "true" | "on" | "1") => true,
            Some(Value::String(s)) if matches!(s.as_str(), "false" | "off" | "0" | "") => false,
            Some(_) => {
                self.fail(field, "must be true or false");
                false
            }
        }
    }

    /// A time from 1970 up to 3000: one before or near the year 9999 (which
    /// an offset or the posting's duration can carry past it) could not be
    /// written back as RFC 3339, and `export` would write another time.
    fn time(&mut self, field: &str, value: Option<&Value>) -> Option<i64> {
        let s = self.text(field, value, 64)?;
        match crate::clock::parse_rfc3339(&s) {
            Some(t) if (0..LATEST_TIME).contains(&t) => Some(t),
            Some(_) => {
                self.fail(field, "must be a time from 1970 up to 3000");
                None
            }
            None => {
                self.fail(field, "must be an RFC 3339 time like 2026-11-27T09:00:00Z");
                None
            }
        }
    }
}

/// Normalises one tag: lowercase, words joined by `-`, letters, digits and
/// `+#.` kept; at most 32 characters, as given and as kept.
pub fn normalise_tag(tag: &str) -> Option<String> {
    if tag.trim().chars().count() > 32 {
        return None;
    }
    let lower = tag.trim().to_lowercase();
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_alphanumeric() || matches!(c, '+' | '#' | '.') {
            out.push(c);
        } else if (c.is_whitespace() || c == '-' || c == '_')
            && !out.is_empty()
            && !out.ends_with('-')
        {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty() && out.chars().count() <= 32).then_some(out)
}

/// Checks a `-3..+3` / `+5:30..+9` UTC offset range.
fn valid_timezones(s: &str) -> bool {
    fn offset(s: &str) -> Option<i32> {
        let s = s.trim();
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => (1, s),
        };
        let (h, m) = match rest.split_once(':') {
            Some((h, m)) => (h, m),
            None => (rest, "0"),
        };
        let h: i32 = h.parse().ok()?;
        let m: i32 = m.parse().ok()?;
        if !(0..=14).contains(&h) || !matches!(m, 0 | 30 | 45) {
            return None;
        }
        Some(sign * (h * 60 + m))
    }
    match s.split_once("..") {
        Some((a, b)) => match (offset(a), offset(b)) {
            (Some(a), Some(b)) => a <= b && a >= -12 * 60,
            _ => false,
        },
        None => false,
    }
}

fn valid_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

pub fn valid_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
                && s.len() <= 254
                // And one the mailer can address: `a@b@c.example` is not.
                && s.parse::<lettre::Address>().is_ok()
        }
        None => false,
    }
}

impl JobInput {
    /// Validates the input against the site's categories.
    pub fn validate(&self, categories: &[Category]) -> Result<NewJob, AppError> {
        let mut c = Check {
            errors: FieldErrors::new(),
        };
        let title = c.required("title", self.title.as_ref(), MAX_TITLE);
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");

        // The company, nested or flat.
        let (name, website, logo) = match &self.company {
            Some(Value::Object(map)) => (map.get("name"), map.get("website"), map.get("logo_url")),
            Some(Value::String(_)) => (
                self.company.as_ref(),
                self.company_website.as_ref(),
                self.company_logo_url.as_ref(),
            ),
            _ => (
                self.company_name.as_ref(),
                self.company_website.as_ref(),
                self.company_logo_url.as_ref(),
            ),
        };
        let company_name = c.required("company_name", name, 120);
        let company_website = c.text("company_website", website, 500);
        if let Some(w) = &company_website {
            if !valid_url(w) {
                c.fail("company_website", "must be an http:// or https:// address");
            }
        }
        let company_logo_url = c.text("company_logo_url", logo, 500);
        if let Some(l) = &company_logo_url {
            if !(valid_url(l) || l.starts_with("/uploads/")) {
                c.fail("company_logo_url", "must be an http:// or https:// address");
            }
        }

        let description = c.required("description", self.description.as_ref(), MAX_DESCRIPTION);

        let category = match c.text("category", self.category.as_ref(), 100) {
            Some(given) => {
                let slug = crate::slug::slugify(&given);
                match categories.iter().find(|cat| cat.slug == slug) {
                    Some(cat) => cat.slug.clone(),
                    None => {
                        c.fail(
                            "category",
                            format!("{given:?} is not one of this board's categories"),
                        );
                        String::new()
                    }
                }
            }
            None => {
                c.fail("category", "is required");
                String::new()
            }
        };

        let job_type = match c.text("job_type", self.job_type.as_ref(), 40) {
            Some(s) => JobType::parse(&s).unwrap_or_else(|| {
                c.fail(
                    "job_type",
                    "must be full_time, part_time, contract or internship",
                );
                JobType::FullTime
            }),
            None => {
                c.fail("job_type", "is required");
                JobType::FullTime
            }
        };

        let mut tags: Vec<String> = Vec::new();
        for raw in c.list("tags", self.tags.as_ref()) {
            match normalise_tag(&raw) {
                Some(t) if !tags.contains(&t) => tags.push(t),
                Some(_) => {}
                None => c.fail(
                    "tags",
                    format!("{raw:?} is not a tag (letters and digits, at most 32)"),
                ),
            }
        }
        if tags.len() > MAX_TAGS {
            c.fail("tags", format!("at most {MAX_TAGS} tags"));
        }

        let mut remote: Vec<Region> = Vec::new();
        for raw in c.list("remote", self.remote.as_ref()) {
            match Region::parse(&raw) {
                Some(r) if !remote.contains(&r) => remote.push(r),
                Some(_) => {}
                None => c.fail(
                    "remote",
                    format!("{raw:?} is not a region (worldwide, americas, europe, africa, middle_east, asia_pacific)"),
                ),
            }
        }
        remote.sort();
        if remote.is_empty() || remote.contains(&Region::Worldwide) {
            remote = vec![Region::Worldwide];
        }

        let timezones = c.text("timezones", self.timezones.as_ref(), 40);
        if let Some(tz) = &timezones {
            if !valid_timezones(tz) {
                c.fail(
                    "timezones",
                    "must be a UTC offset range like -3..+3 or +5:30..+9",
                );
            }
        }
        let location = c.text("location", self.location.as_ref(), 200);

        let salary_min = c.integer("salary_min", self.salary_min.as_ref());
        let salary_max = c.integer("salary_max", self.salary_max.as_ref());
        // A currency or period given is checked even without amounts.
        let currency = c
            .text("salary_currency", self.salary_currency.as_ref(), 3)
            .map(|s| s.to_ascii_uppercase());
        if currency
            .as_ref()
            .is_some_and(|cur| cur.len() != 3 || !cur.bytes().all(|b| b.is_ascii_uppercase()))
        {
            c.fail(
                "salary_currency",
                "must be a three-letter ISO 4217 code like USD",
            );
        }
        let period = c
            .text("salary_period", self.salary_period.as_ref(), 10)
            .map(|p| {
                SalaryPeriod::parse(&p).unwrap_or_else(|| {
                    c.fail("salary_period", "must be year, month or hour");
                    SalaryPeriod::Year
                })
            });
        let salary = if salary_min.is_some() || salary_max.is_some() {
            if let (Some(a), Some(b)) = (salary_min, salary_max) {
                if a > b {
                    c.fail("salary_max", "must not be below salary_min");
                }
            }
            let currency = currency.unwrap_or_else(|| {
                c.fail("salary_currency", "is required with a salary");
                String::new()
            });
            let period = period.unwrap_or(SalaryPeriod::Year);
            Some(Salary {
                min: salary_min,
                max: salary_max,
                currency,
                period,
            })
        } else {
            None
        };

        let apply_url = c.text("apply_url", self.apply_url.as_ref(), 1000);
        if let Some(u) = &apply_url {
            if !valid_url(u) {
                c.fail("apply_url", "must be an http:// or https:// address");
            }
        }
        let apply_email = c.text("apply_email", self.apply_email.as_ref(), 254);
        if let Some(e) = &apply_email {
            if !valid_email(e) {
                c.fail("apply_email", "must be an email address");
            }
        }
        if apply_url.is_none() && apply_email.is_none() {
            c.fail("apply_url", "give an apply URL or an apply email");
        }

        let featured = c.boolean("featured", self.featured.as_ref());
        let status = match c.text("status", self.status.as_ref(), 40) {
            Some(s) => Status::parse(&s).or_else(|| {
                c.fail("status", "is not a job status");
                None
            }),
            None => None,
        };
        let published_at = c.time("published_at", self.published_at.as_ref());
        let expires_at = c.time("expires_at", self.expires_at.as_ref());

        if !c.errors.is_empty() {
            return Err(AppError::Invalid(c.errors));
        }
        Ok(NewJob {
            title,
            company: CompanyInput {
                name: company_name,
                website: company_website,
                logo_url: company_logo_url,
            },
            description,
            category,
            job_type,
            tags,
            remote,
            timezones,
            location,
            salary,
            apply_url,
            apply_email,
            featured,
            status,
            published_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn cats() -> Vec<Category> {
        Config::for_data_dir(std::path::Path::new("/tmp"))
            .site
            .categories
    }

    fn input(v: Value) -> JobInput {
        serde_json::from_value(v).expect("shape")
    }

    #[test]
    fn emails_the_mailer_can_address() {
        assert!(valid_email("ana@example.com"));
        assert!(valid_email("ana+jobs@sub.example.co.uk"));
        for bad in [
            "x@y@example.com",
            "ana@",
            "@example.com",
            "ana example@x.io",
            "a@b",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn control_characters_are_dropped() {
        let j = input(serde_json::json!({
            "title": "Null\u{0} Byte\u{7} Engineer\u{ffff}",
            "company": "Acme\u{1b}",
            "description": "Line one\nLine\ttwo\u{b}",
            "category": "Other", "job_type": "contract",
            "apply_url": "https://acme.example/jobs/1"
        }))
        .validate(&cats())
        .expect("valid");
        assert_eq!(j.title, "Null Byte Engineer");
        assert_eq!(j.company.name, "Acme");
        assert_eq!(j.description, "Line one\nLine\ttwo");
        let only = input(serde_json::json!({"title": "\u{0}"})).validate(&cats());
        assert!(
            only.expect_err("empty")
                .fields()
                .expect("fields")
                .contains_key("title")
        );
    }

    #[test]
    fn a_good_job_validates() {
        let j = input(serde_json::json!({
            "title": "  Senior   Rust Engineer ",
            "company": {"name": "Acme", "website": "https://acme.example"},
            "description": "Build things.",
            "category": "Software Development",
            "job_type": "full_time",
            "tags": ["Rust", "rust", "Node JS"],
            "remote": ["europe", "americas"],
            "timezones": "-3..+5:30",
            "salary_min": 80000, "salary_max": 120000, "salary_currency": "usd",
            "apply_url": "https://acme.example/jobs/1"
        }))
        .validate(&cats())
        .expect("valid");
        assert_eq!(j.title, "Senior Rust Engineer");
        assert_eq!(j.category, "software-development");
        assert_eq!(j.tags, vec!["rust", "node-js"]);
        assert_eq!(j.remote, vec![Region::Americas, Region::Europe]);
        let s = j.salary.expect("salary");
        assert_eq!((s.currency.as_str(), s.period), ("USD", SalaryPeriod::Year));
    }

    #[test]
    fn each_bad_field_gets_a_message() {
        let err = input(serde_json::json!({
            "title": "",
            "category": "Astrology",
            "job_type": "gig",
            "tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>(),
            "remote": ["mars"],
            "timezones": "+20..+3",
            "salary_min": 10, "salary_max": 5,
            "apply_url": "ftp://x"
        }))
        .validate(&cats())
        .expect_err("invalid");
        let f = err.fields().expect("fields");
        for key in [
            "title",
            "company_name",
            "description",
            "category",
            "job_type",
            "tags",
            "remote",
            "timezones",
            "salary_max",
            "salary_currency",
            "apply_url",
        ] {
            assert!(f.contains_key(key), "no message for {key}: {f:?}");
        }
    }

    #[test]
    fn worldwide_swallows_regions_and_is_the_default() {
        let base = serde_json::json!({
            "title": "T", "company_name": "C", "description": "D",
            "category": "design", "job_type": "contract", "apply_email": "a@b.example"
        });
        let j = input(base.clone()).validate(&cats()).expect("valid");
        assert_eq!(j.remote, vec![Region::Worldwide]);
        let mut with = base;
        with["remote"] = serde_json::json!(["europe", "worldwide"]);
        assert_eq!(
            input(with).validate(&cats()).expect("valid").remote,
            vec![Region::Worldwide]
        );
    }

    #[test]
    fn times_the_export_can_write_back() {
        let base = serde_json::json!({
            "title": "T", "company_name": "C", "description": "D",
            "category": "design", "job_type": "contract", "apply_email": "a@b.example"
        });
        let with = |time: &str| {
            let mut v = base.clone();
            v["published_at"] = serde_json::json!(time);
            input(v).validate(&cats())
        };
        for bad in [
            "9999-12-31T23:59:59-23:59",
            "9999-12-20T00:00:00Z",
            "0000-01-01T00:00:00+01:00",
            "1969-12-31T23:59:59Z",
            "3000-01-01T00:00:00Z",
        ] {
            let err = with(bad).expect_err(bad);
            assert!(
                err.fields().expect("fields").contains_key("published_at"),
                "{bad}"
            );
        }
        let ok = with("2999-12-31T23:59:59Z").expect("valid");
        assert_eq!(ok.published_at, Some(LATEST_TIME - 1));
        assert_eq!(
            with("1970-01-01T00:00:00Z").expect("valid").published_at,
            Some(0)
        );
    }

    #[test]
    fn timezones() {
        assert!(valid_timezones("-3..+3"));
        assert!(valid_timezones("+5:30..+9"));
        assert!(!valid_timezones("+3..-3"));
        assert!(!valid_timezones("utc"));
        assert!(!valid_timezones("+5:10..+6"));
    }
}
