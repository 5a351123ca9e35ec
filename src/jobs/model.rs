//! Job postings: the types of SPEC §3 and their vocabularies.

use serde::{Deserialize, Serialize};

/// `Full-time`, `full time` → `full_time`: how input names a vocabulary word.
fn vocabulary_word(s: &str) -> String {
    s.trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '-' || c == ' ' { '_' } else { c })
        .collect()
}

/// A job's kind of employment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobType {
    FullTime,
    PartTime,
    Contract,
    Internship,
}

impl JobType {
    pub const ALL: [JobType; 4] = [
        JobType::FullTime,
        JobType::PartTime,
        JobType::Contract,
        JobType::Internship,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobType::FullTime => "full_time",
            JobType::PartTime => "part_time",
            JobType::Contract => "contract",
            JobType::Internship => "internship",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            JobType::FullTime => "Full-time",
            JobType::PartTime => "Part-time",
            JobType::Contract => "Contract",
            JobType::Internship => "Internship",
        }
    }

    /// Accepts `full_time`, `full-time`, `Full time`, …
    pub fn parse(s: &str) -> Option<JobType> {
        let norm = vocabulary_word(s);
        JobType::ALL.into_iter().find(|t| t.as_str() == norm)
    }
}

/// Where a remote job may be done from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    Worldwide,
    Americas,
    Europe,
    Africa,
    MiddleEast,
    AsiaPacific,
}

impl Region {
    pub const ALL: [Region; 6] = [
        Region::Worldwide,
        Region::Americas,
        Region::Europe,
        Region::Africa,
        Region::MiddleEast,
        Region::AsiaPacific,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Worldwide => "worldwide",
            Region::Americas => "americas",
            Region::Europe => "europe",
            Region::Africa => "africa",
            Region::MiddleEast => "middle_east",
            Region::AsiaPacific => "asia_pacific",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Region::Worldwide => "Worldwide",
            Region::Americas => "Americas",
            Region::Europe => "Europe",
            Region::Africa => "Africa",
            Region::MiddleEast => "Middle East",
            Region::AsiaPacific => "Asia-Pacific",
        }
    }

    pub fn parse(s: &str) -> Option<Region> {
        let norm = vocabulary_word(s);
        Region::ALL.into_iter().find(|r| r.as_str() == norm)
    }
}

/// Where a job is in its life (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    PendingPayment,
    PendingReview,
    Published,
    Expired,
    Filled,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Draft,
        Status::PendingPayment,
        Status::PendingReview,
        Status::Published,
        Status::Expired,
        Status::Filled,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::PendingPayment => "pending_payment",
            Status::PendingReview => "pending_review",
            Status::Published => "published",
            Status::Expired => "expired",
            Status::Filled => "filled",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }
}

/// How often a salary is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SalaryPeriod {
    Year,
    Month,
    Hour,
}

impl SalaryPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            SalaryPeriod::Year => "year",
            SalaryPeriod::Month => "month",
            SalaryPeriod::Hour => "hour",
        }
    }

    pub fn parse(s: &str) -> Option<SalaryPeriod> {
        match s.trim().to_ascii_lowercase().as_str() {
            "year" | "yearly" | "annual" => Some(SalaryPeriod::Year),
            "month" | "monthly" => Some(SalaryPeriod::Month),
            "hour" | "hourly" => Some(SalaryPeriod::Hour),
            _ => None,
        }
    }
}

/// A salary range in whole units of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salary {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub currency: String,
    pub period: SalaryPeriod,
}

impl Salary {
    /// `$80,000–$120,000 a year`, `€4,000 a month`, `from ¥10,000 an hour`.
    pub fn display(&self) -> String {
        let money = |n: i64| format!("{}{}", currency_symbol(&self.currency), group(n));
        let range = match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => money(a),
            (Some(a), Some(b)) => format!("{}–{}", money(a), money(b)),
            (Some(a), None) => format!("from {}", money(a)),
            (None, Some(b)) => format!("up to {}", money(b)),
            (None, None) => return String::new(),
        };
        let per = match self.period {
            SalaryPeriod::Year => "a year",
            SalaryPeriod::Month => "a month",
            SalaryPeriod::Hour => "an hour",
        };
        format!("{range} {per}")
    }
}

fn currency_symbol(code: &str) -> String {
    match code {
        "USD" => "$".into(),
        "EUR" => "€".into(),
        "GBP" => "£".into(),
        "JPY" | "CNY" => "¥".into(),
        "INR" => "₹".into(),
        "BRL" => "R$".into(),
        "VND" => "₫".into(),
        other => format!("{other} "),
    }
}

/// `1234567` → `1,234,567`.
fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A company as jobs carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRef {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub website: Option<String>,
    pub logo_url: Option<String>,
}

/// A job as stored (times in Unix seconds).
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub company: CompanyRef,
    pub description: String,
    pub description_html: String,
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
    pub status: Status,
    pub published_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub views: i64,
    pub apply_clicks: i64,
    /// Who posted it; `None` for imported and demo jobs.
    pub owner_id: Option<i64>,
    /// Published but kept from the public: its owner is disabled, or
    /// unverified while verified email is required.
    pub hidden: bool,
    /// Why an admin rejected it (status `rejected`).
    pub rejection_reason: Option<String>,
}

impl Job {
    /// The job's page, relative to the site.
    pub fn path(&self) -> String {
        format!("/jobs/{}-{}", self.id, self.slug)
    }

    /// Whether the public may see it now: published, not hidden and not past
    /// its expiry.
    pub fn is_live(&self, now: i64) -> bool {
        self.status == Status::Published && !self.hidden && self.expires_at.is_none_or(|e| e > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_parse_loosely() {
        assert_eq!(JobType::parse("Full-time"), Some(JobType::FullTime));
        assert_eq!(JobType::parse("part time"), Some(JobType::PartTime));
        assert_eq!(JobType::parse("gig"), None);
        assert_eq!(Region::parse("Middle East"), Some(Region::MiddleEast));
        assert_eq!(Region::parse("mars"), None);
        assert_eq!(Status::parse("pending_review"), Some(Status::PendingReview));
    }

    #[test]
    fn salary_reads_well() {
        let s = Salary {
            min: Some(80_000),
            max: Some(120_000),
            currency: "USD".into(),
            period: SalaryPeriod::Year,
        };
        assert_eq!(s.display(), "$80,000–$120,000 a year");
        let s = Salary {
            min: Some(4000),
            max: None,
            currency: "CHF".into(),
            period: SalaryPeriod::Month,
        };
        assert_eq!(s.display(), "from CHF 4,000 a month");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
    }
}
