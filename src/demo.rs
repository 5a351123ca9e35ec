//! `jobboard demo`: a living board of realistic companies and jobs, so a new
//! user (and a benchmark) sees what the board looks like in use.

use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::jobs::input::{CompanyInput, NewJob};
use crate::jobs::model::{JobType, Region, Salary, SalaryPeriod, Status};
use crate::jobs::store::Placement;

const FIRST: &[&str] = &[
    "North", "Blue", "Bright", "Open", "Silver", "Green", "Quiet", "Red", "Swift", "Deep", "Clear",
    "Golden", "Iron", "Cedar", "River", "Maple", "Harbor", "Summit", "Lumen", "Atlas", "Pixel",
    "Kite", "Orbit", "Tidal", "Nimbus", "Copper", "Granite", "Willow", "Falcon", "Aurora",
];
const SECOND: &[&str] = &[
    "wind", "fin", "stack", "leaf", "works", "labs", "field", "forge", "path", "wave", "line",
    "byte", "loop", "craft", "point", "bridge", "grid", "light", "cloud", "hive",
];
const SUFFIX: &[&str] = &[
    "",
    "",
    " Inc.",
    " GmbH",
    " Ltd",
    " Studio",
    " Co-op",
    " Health",
    " Systems",
    " Learning",
];

/// (category, titles, tags) — titles get a seniority in front.
const ROLES: &[(&str, &[&str], &[&str])] = &[
    (
        "Software Development",
        &[
            "Rust Engineer",
            "Backend Engineer",
            "Frontend Developer",
            "Full-Stack Developer",
            "iOS Engineer",
            "Android Developer",
            "Go Developer",
            "Python Developer",
            "Elixir Engineer",
            "Platform Engineer",
        ],
        &[
            "rust",
            "go",
            "python",
            "typescript",
            "react",
            "postgresql",
            "kotlin",
            "swift",
            "elixir",
            "graphql",
            "node.js",
            "django",
            "rails",
            "vue",
            "aws",
        ],
    ),
    (
        "Design",
        &[
            "Product Designer",
            "UX Researcher",
            "Brand Designer",
            "UI Designer",
            "Design Systems Lead",
        ],
        &[
            "figma",
            "ux",
            "ui",
            "research",
            "accessibility",
            "illustration",
            "prototyping",
        ],
    ),
    (
        "Product",
        &[
            "Product Manager",
            "Product Owner",
            "Technical Product Manager",
            "Head of Product",
        ],
        &["roadmaps", "analytics", "b2b", "saas", "discovery", "agile"],
    ),
    (
        "Data",
        &[
            "Data Engineer",
            "Data Scientist",
            "Analytics Engineer",
            "Machine Learning Engineer",
            "Data Analyst",
        ],
        &[
            "sql",
            "python",
            "dbt",
            "spark",
            "airflow",
            "statistics",
            "pytorch",
            "bigquery",
        ],
    ),
    (
        "DevOps & Sysadmin",
        &[
            "Site Reliability Engineer",
            "DevOps Engineer",
            "Linux Administrator",
            "Cloud Engineer",
            "Security Engineer",
        ],
        &[
            "kubernetes",
            "terraform",
            "linux",
            "aws",
            "gcp",
            "ansible",
            "observability",
            "security",
        ],
    ),
    (
        "Marketing",
        &[
            "Content Marketer",
            "Growth Marketer",
            "SEO Specialist",
            "Marketing Manager",
            "Community Manager",
        ],
        &[
            "seo",
            "content",
            "email",
            "social-media",
            "analytics",
            "copywriting",
        ],
    ),
    (
        "Sales",
        &[
            "Account Executive",
            "Sales Development Representative",
            "Partnerships Manager",
            "Solutions Consultant",
        ],
        &["b2b", "saas", "crm", "negotiation", "enterprise"],
    ),
    (
        "Customer Support",
        &[
            "Customer Support Specialist",
            "Support Engineer",
            "Customer Success Manager",
            "Technical Support Lead",
        ],
        &[
            "zendesk",
            "customer-success",
            "documentation",
            "troubleshooting",
            "saas",
        ],
    ),
    (
        "Finance",
        &[
            "Financial Analyst",
            "Accountant",
            "Controller",
            "Payroll Specialist",
        ],
        &["accounting", "excel", "forecasting", "payroll", "audit"],
    ),
    (
        "Writing",
        &[
            "Technical Writer",
            "Copywriter",
            "Editor",
            "Documentation Engineer",
        ],
        &["writing", "docs", "markdown", "editing", "api-docs"],
    ),
    (
        "Operations",
        &[
            "Operations Manager",
            "Executive Assistant",
            "People Operations Partner",
            "Project Manager",
        ],
        &["operations", "planning", "remote", "hr", "coordination"],
    ),
    (
        "Education",
        &[
            "Curriculum Designer",
            "Online Tutor",
            "Instructional Designer",
        ],
        &["teaching", "e-learning", "curriculum", "mentoring"],
    ),
];
const LEVELS: &[&str] = &[
    "",
    "",
    "Senior ",
    "Junior ",
    "Lead ",
    "Staff ",
    "Principal ",
];
const LOCATIONS: &[&str] = &[
    "Berlin, Germany",
    "Lisbon, Portugal",
    "Toronto, Canada",
    "São Paulo, Brazil",
    "Nairobi, Kenya",
    "Singapore",
    "Austin, USA",
    "Kraków, Poland",
    "Taipei, Taiwan",
    "Ho Chi Minh City, Vietnam",
];
const PERKS: &[&str] = &[
    "A yearly learning budget of 1,500 for books, courses and conferences",
    "Flexible hours: we care about outcomes, not online status",
    "28 days of paid holiday plus local public holidays",
    "A home-office budget and the laptop of your choice",
    "Private health insurance for you and your family",
    "Four-day work weeks in August",
    "Paid parental leave of 20 weeks",
    "Yearly team retreats somewhere sunny",
];
const ABOUT: &[&str] = &[
    "We build tools that help small teams do their best work without drowning in process.",
    "We are a fully remote team spread over a dozen countries, writing software that hospitals rely on every day.",
    "Our products help independent shops sell online, and we are profitable, calm and growing.",
    "We make open-source infrastructure that thousands of companies run in production.",
    "We help schools and teachers share lessons, grades and feedback in one simple place.",
    "We are a small cooperative owned by the people who work here.",
];

/// A small deterministic generator: the same board for the same size.
struct Gen(fastrand::Rng);

impl Gen {
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.0.usize(..items.len())]
    }
}

fn company_name(g: &mut Gen) -> String {
    format!("{}{}{}", g.pick(FIRST), g.pick(SECOND), g.pick(SUFFIX))
}

fn description(g: &mut Gen, title: &str, company: &str, tags: &[String]) -> String {
    let mut perks: Vec<&str> = PERKS.to_vec();
    g.0.shuffle(&mut perks);
    let skills = if tags.is_empty() {
        "the tools of the trade".to_string()
    } else {
        tags.join(", ")
    };
    format!(
        "## About {company}\n\n{about}\n\n## The role\n\nAs our **{title}** you will own meaningful work from the first week. \
         You will pair with teammates across time zones, write things down, and ship improvements that \
         our users notice.\n\n## What you bring\n\n- Solid experience with {skills}\n- Clear written communication\n\
         - Curiosity and kindness in code review\n- {years}+ years in a similar role (or equivalent experience)\n\n\
         ## What we offer\n\n- {p0}\n- {p1}\n- {p2}\n\n*We welcome applicants of every background. \
         Tell us in your application if you need any adjustments.*\n",
        about = g.pick(ABOUT),
        years = 1 + g.0.usize(..6),
        p0 = perks[0],
        p1 = perks[1],
        p2 = perks[2],
    )
}

/// Makes `count` jobs at about `count / 8` companies (3 % featured).
fn make_job(g: &mut Gen, companies: &[String]) -> NewJob {
    let (category, titles, tag_pool) = ROLES[g.0.usize(..ROLES.len())];
    let title = format!("{}{}", g.pick(LEVELS), g.pick(titles));
    let company = companies[g.0.usize(..companies.len())].clone();
    let mut tags: Vec<String> = Vec::new();
    for _ in 0..g.0.usize(2..6) {
        let t = g.pick(tag_pool).to_string();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let remote = match g.0.u8(..10) {
        0..=3 => vec![Region::Worldwide],
        4 => vec![Region::Americas],
        5 => vec![Region::Europe],
        6 => vec![Region::Americas, Region::Europe],
        7 => vec![Region::Europe, Region::Africa, Region::MiddleEast],
        8 => vec![Region::AsiaPacific],
        _ => vec![Region::Europe, Region::AsiaPacific],
    };
    let job_type = match g.0.u8(..20) {
        0..=14 => JobType::FullTime,
        15..=16 => JobType::PartTime,
        17..=18 => JobType::Contract,
        _ => JobType::Internship,
    };
    let salary = (g.0.u8(..10) < 6).then(|| {
        let (currency, base) = match g.0.u8(..4) {
            0 | 1 => ("USD", 60_000),
            2 => ("EUR", 50_000),
            _ => ("GBP", 45_000),
        };
        let min = base + 5_000 * g.0.i64(0..14);
        Salary {
            min: Some(min),
            max: Some(min + 10_000 * g.0.i64(1..5)),
            currency: currency.to_string(),
            period: SalaryPeriod::Year,
        }
    });
    let slug = crate::slug::slugify(&company);
    let (apply_url, apply_email) = if g.0.u8(..5) == 0 {
        (None, Some(format!("jobs@{slug}.example")))
    } else {
        (
            Some(format!(
                "https://{slug}.example/careers/{}",
                g.0.u32(1000..99_999)
            )),
            None,
        )
    };
    let description = description(g, &title, &company, &tags);
    NewJob {
        title,
        company: CompanyInput {
            website: Some(format!("https://{slug}.example")),
            name: company,
            logo_url: None,
        },
        description,
        category: crate::slug::slugify(category),
        job_type,
        tags,
        remote,
        timezones: match g.0.u8(..6) {
            0 => Some("-8..-3".to_string()),
            1 => Some("-1..+3".to_string()),
            2 => Some("+5:30..+9".to_string()),
            _ => None,
        },
        location: (g.0.u8(..3) == 0).then(|| g.pick(LOCATIONS).to_string()),
        salary,
        apply_url,
        apply_email,
        featured: g.0.u8(..100) < 3,
        status: None,
        published_at: None,
        expires_at: None,
    }
}

/// Fills an empty board with `count` jobs; returns how many it made (0 when the
/// board already has jobs). `progress` hears the running count.
pub fn fill(
    db: &Db,
    config: &Config,
    clock: &SharedClock,
    count: usize,
    mut progress: impl FnMut(usize),
) -> Result<usize, AppError> {
    if !db.read_blocking(crate::jobs::store::is_empty)? {
        return Ok(0);
    }
    let mut g = Gen(fastrand::Rng::with_seed(20_261_127));
    let companies: Vec<String> = (0..(count / 8).clamp(5, 5_000))
        .map(|_| company_name(&mut g))
        .collect();
    let now = clock.unix();
    let duration = i64::from(config.posting.duration_days) * 86_400;
    // Spread publication over the last posting period, so all are live and ages vary.
    let spread = (duration - 86_400).max(3600);
    let known: Vec<String> = config
        .site
        .categories
        .iter()
        .map(|c| c.slug.clone())
        .collect();
    let fallback = known.last().cloned().unwrap_or_else(|| "other".into());
    let mut made = 0;
    while made < count {
        let n = (count - made).min(5_000);
        let mut batch = Vec::with_capacity(n);
        for _ in 0..n {
            let mut job = make_job(&mut g, &companies);
            if !known.contains(&job.category) {
                job.category = fallback.clone();
            }
            let published = now - g.0.i64(0..spread);
            batch.push((job, published));
        }
        db.write_blocking(move |tx| {
            for (job, published) in &batch {
                let placement = Placement {
                    status: Status::Published,
                    published_at: Some(*published),
                    expires_at: Some(published + duration),
                };
                crate::jobs::create(tx, job, placement, *published)?;
            }
            Ok(())
        })?;
        made += n;
        progress(made);
    }
    Ok(made)
}
