//! The XSS sweep (hostile input): payload families (`<script>`, attribute
//! and quote break-outs, `javascript:` URLs, `</script>` and `</title>`,
//! template syntax, CDATA ends, U+2028, JSON-breaking quotes, `</style>`,
//! CRLF header injection, entity tricks, control characters) go into every
//! field a user can set, the real ways a user sets them: the `/post` form,
//! the dashboard's edit, company and token forms, the API, `jobboard
//! import`, the alert form, an admin's rejection reason, refused forms and
//! query strings. Then every page, feed, JSON answer and email that shows
//! them is fetched and checked by [`inert`]: parsed as a browser, feed
//! reader or mail client would, nothing in it may come from a value, and
//! each value shown must be there whole, as text.
//!
//! One board, one employer pair and one alert per payload family, each job
//! carrying the family in all its fields; markers in every value name the
//! field, family and way in of whatever a finding quotes (see [`payloads`]).

mod inert;
mod payloads;

use std::cell::RefCell;

use jobboard::clock::Clock;
use jobboard::jobs::input::normalise_tag;
use serde_json::{Value, json};

use crate::common::browser::{Browser, PASSWORD, Page};
use crate::common::smtp::SmtpServer;
use crate::common::{TestApp, run, text as body_text};
use inert::{Findings, JsonLd, Kind, decode_words, norm};
use payloads::{FAMILIES, Hostile, marker};

const BASE: &str = "https://board.example";
const ADMIN: &str = "admin@board.example";

/// A browser with its CSRF token in hand.
struct Agent<'a> {
    b: Browser<'a>,
    token: String,
}

impl<'a> Agent<'a> {
    async fn new(app: &'a TestApp, ip: &str) -> Agent<'a> {
        let b = Browser::new(app, ip);
        let token = b.csrf().await;
        Agent { b, token }
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("csrf_token", self.token.as_str())];
        all.extend_from_slice(fields);
        self.b.post_raw(path, &all).await
    }

    async fn get(&self, path: &str) -> Page {
        self.b.get(path).await
    }
}

/// The values of one job: each field carries the family, with its marker.
#[derive(Clone)]
struct JobValues {
    family: &'static str,
    title: Hostile,
    company: Hostile,
    website: Hostile,
    location: Hostile,
    apply_url: Option<Hostile>,
    apply_email: Option<Hostile>,
    logo: Option<Hostile>,
    description: String,
    /// What the rendered description must show literally.
    visible: Vec<String>,
    /// The tags as typed, and as the board keeps them.
    tags_input: String,
    tags: Vec<String>,
}

impl JobValues {
    fn new(f: &Findings, path: char, family: &'static str, spans: &[&str], by_email: bool) -> Self {
        let h = |field: &str, value: String| f.hostile(marker(path, field, family), value);
        let m = |field: &str| marker(path, field, family);
        let (description, visible) = payloads::description(path, family, spans);
        for (code, _, _) in payloads::MARKDOWN {
            f.remember(&m(&format!("m{code}")));
        }
        f.remember(&m("de"));
        let tags_input = format!(
            "{}<b>, \"><img src=x onerror=alert(1)>, {{{{7*7}}}}",
            marker('u', "tg", family)
        );
        let tags = tags_input
            .split(',')
            .filter_map(normalise_tag)
            .collect::<Vec<_>>();
        JobValues {
            family,
            title: h("ti", payloads::text(family, &m("ti"))),
            company: h("co", payloads::text(family, &m("co"))),
            website: h("ws", payloads::url(family, &m("ws"))),
            location: h("lo", payloads::text(family, &m("lo"))),
            apply_url: (!by_email).then(|| h("au", payloads::url(family, &m("au")))),
            apply_email: by_email.then(|| h("ae", payloads::email(&m("ae"), "apply.example"))),
            logo: (path == 'i').then(|| {
                h(
                    "lg",
                    format!("/uploads/{}", payloads::text(family, &m("lg"))),
                )
            }),
            description,
            visible,
            tags_input,
            tags,
        }
    }

    /// The job form's fields.
    fn form(&self) -> Vec<(&str, &str)> {
        let mut v = vec![
            ("title", self.title.value.as_str()),
            ("company_name", self.company.value.as_str()),
            ("company_website", self.website.value.as_str()),
            ("description", self.description.as_str()),
            ("category", "software-development"),
            ("job_type", "full_time"),
            ("tags", self.tags_input.as_str()),
            ("remote", "europe"),
            ("remote", "americas"),
            ("timezones", "-3..+3"),
            ("location", self.location.value.as_str()),
            ("salary_min", "50000"),
            ("salary_max", "90000"),
            ("salary_currency", "EUR"),
            ("salary_period", "year"),
        ];
        if let Some(u) = &self.apply_url {
            v.push(("apply_url", u.value.as_str()));
        }
        if let Some(e) = &self.apply_email {
            v.push(("apply_email", e.value.as_str()));
        }
        v
    }

    /// The job input of the API and `import`.
    fn json(&self) -> Value {
        let mut company = json!({"name": self.company.value, "website": self.website.value});
        if let Some(l) = &self.logo {
            company["logo_url"] = json!(l.value);
        }
        json!({
            "title": self.title.value,
            "company": company,
            "description": self.description,
            "category": "Software Development",
            "job_type": "contract",
            "tags": self.tags_input.split(',').collect::<Vec<_>>(),
            "remote": ["worldwide"],
            "timezones": "+5:30..+9",
            "location": self.location.value,
            "salary_min": 40, "salary_max": 60, "salary_currency": "usd", "salary_period": "hour",
            "apply_url": self.apply_url.as_ref().map(|h| h.value.clone()),
            "apply_email": self.apply_email.as_ref().map(|h| h.value.clone()),
        })
    }

    /// What a job card shows.
    fn card(&self) -> Vec<String> {
        vec![
            self.title.stored_title(),
            self.company.stored(),
            self.location.stored(),
        ]
    }

    /// What the job's page shows.
    fn page(&self) -> Vec<String> {
        let mut v = self.card();
        v.extend(self.visible.iter().cloned());
        v.extend(self.tags.iter().cloned());
        if let Some(l) = &self.logo {
            v.push(l.stored());
        }
        v
    }

    /// What an edit form shows (values as stored).
    fn edit(&self) -> Vec<String> {
        let mut v = vec![
            self.title.stored_title(),
            self.company.stored(),
            self.website.stored(),
            self.location.stored(),
            self.description.clone(),
            self.tags.join(", "),
        ];
        v.extend(self.apply_url.iter().map(|h| h.stored()));
        v.extend(self.apply_email.iter().map(|h| h.stored()));
        v
    }
}

/// A job made in the sweep.
struct Made {
    id: i64,
    values: JobValues,
    /// The employer, for their pages (none for an import).
    owner: Option<usize>,
}

/// An email the board must have sent.
struct Expected {
    to: String,
    subject: String,
    shown: Vec<String>,
    what: String,
}

/// Everything the sweep made and expects.
struct Sweep<'a> {
    app: &'a TestApp,
    smtp: &'a SmtpServer,
    f: Findings,
    mails: RefCell<Vec<Expected>>,
    approvals: RefCell<Vec<Approval>>,
}

/// A job an admin approves once every family has one waiting: one wave
/// at a time, so each alert's digest holds one job (its subject names it).
#[derive(Clone)]
struct Approval {
    wave: u8,
    id: i64,
    owner: String,
    alert: String,
    summary: String,
    title: String,
    company: String,
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

impl<'a> Sweep<'a> {
    /// Checks a page answered `status` and is inert, showing `shown`.
    fn page(&self, place: &str, page: &Page, status: u16, shown: &[String]) -> Vec<Value> {
        if page.status != status {
            self.f.fail(
                place,
                &format!("answered {}, not {status}", page.status),
                &page.body,
            );
            return Vec::new();
        }
        self.f.html(place, &page.body, Kind::Page, &refs(shown))
    }

    /// Fetches and checks a page.
    async fn visit(&self, who: &Agent<'_>, path: &str, shown: &[String]) -> Vec<Value> {
        let page = who.get(path).await;
        self.page(&format!("GET {path}"), &page, 200, shown)
    }

    fn expect_mail(&self, what: &str, to: &str, subject: String, shown: Vec<String>) {
        self.mails.borrow_mut().push(Expected {
            to: to.to_string(),
            subject,
            shown,
            what: what.to_string(),
        });
    }

    async fn slug_of_company(&self, job: i64) -> String {
        self.app
            .state
            .db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT c.slug FROM companies c JOIN jobs j ON j.company_id = c.id WHERE j.id = ?1",
                    [job],
                    |r| r.get::<_, String>(0),
                )?)
            })
            .await
            .expect("company slug")
    }

    fn approve_later(
        &self,
        wave: u8,
        id: i64,
        owner: &str,
        alert: &str,
        summary: &str,
        v: &JobValues,
    ) {
        self.approvals.borrow_mut().push(Approval {
            wave,
            id,
            owner: owner.to_string(),
            alert: alert.to_string(),
            summary: summary.to_string(),
            title: v.title.stored_title(),
            company: v.company.stored(),
        });
    }

    /// Approves the jobs of a wave, runs an alert round, and expects the
    /// publication and digest emails.
    async fn approve(&self, admin: &Agent<'_>, wave: u8) {
        let due: Vec<Approval> = self
            .approvals
            .borrow()
            .iter()
            .filter(|a| a.wave == wave)
            .cloned()
            .collect();
        for a in due {
            let approved = admin
                .post(
                    &format!("/admin/jobs/{}/approve", a.id),
                    &[("back", "/admin")],
                )
                .await;
            assert_eq!(approved.status, 303, "{}", approved.body);
            self.expect_mail(
                "publication",
                &a.owner,
                format!("Your job is live: {}", a.title),
                vec![a.title.clone(), a.company.clone()],
            );
            self.expect_mail(
                "alert digest",
                &a.alert,
                format!("New job: {} at {}", a.title, a.company),
                vec![a.summary.clone(), a.title.clone(), a.company.clone()],
            );
        }
        self.next_round();
    }

    /// The alert rounds due now: a minute passes, the worker runs.
    fn next_round(&self) {
        self.app.index();
        self.app.clock.advance(60);
        self.app.run_pending_tasks();
        self.app.run_pending_tasks();
    }
}

/// One payload family's people and things.
struct Family<'a> {
    code: &'static str,
    /// Employer posting through the form (and editing, and the profile).
    poster: Agent<'a>,
    poster_email: String,
    seeker: Agent<'a>,
    alert_email: String,
    alert_q: Hostile,
    search_q: Hostile,
    manage: String,
    reason: Hostile,
}

#[tokio::test]
async fn hostile_values_come_out_inert_on_every_page_feed_answer_and_email() {
    let started = std::time::Instant::now();
    let smtp = SmtpServer::start();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let app = TestApp::with_env(&[
        ("JOBBOARD_MAIL_TRANSPORT", "smtp"),
        ("JOBBOARD_MAIL_SMTP_URL", &smtp_url),
        ("JOBBOARD_POSTING_REQUIRE_APPROVAL", "true"),
        ("JOBBOARD_LIMITS_ENABLED", "false"),
    ]);
    let s = Sweep {
        app: &app,
        smtp: &smtp,
        f: Findings::default(),
        mails: RefCell::new(Vec::new()),
        approvals: RefCell::new(Vec::new()),
    };
    let f = &s.f;
    app.create_user(ADMIN, true).await;
    let admin = Agent::new(&app, "10.66.0.1").await;
    assert_eq!(admin.b.login(ADMIN).await.status, 303);

    // `jobboard import`: one line a family, before any alert exists.
    let mut jobs: Vec<Made> = Vec::new();
    let imported: Vec<JobValues> = FAMILIES
        .iter()
        .map(|(code, _)| {
            let sq = marker('u', "sq", code);
            let aq = marker('u', "aq", code);
            let spans = [payloads::text(code, &sq), payloads::text(code, &aq)];
            JobValues::new(f, 'i', code, &refs(&spans), false)
        })
        .collect();
    let lines: Vec<String> = imported.iter().map(|v| v.json().to_string()).collect();
    let dir = app._dir.path().to_str().expect("utf-8 path").to_string();
    let out = run(
        app._dir.path(),
        &["--data-dir", &dir, "import", "-"],
        &[("JOBBOARD_BASE_URL", BASE)],
        Some(lines.join("\n").as_bytes()),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("imported {}, skipped 0", FAMILIES.len())),
        "import: {err}"
    );
    app.index();
    let all: Vec<(i64, String)> = app
        .state
        .db
        .read(|c| {
            let mut st = c.prepare("SELECT id, title FROM jobs")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .expect("jobs");
    for v in imported {
        let id = all
            .iter()
            .find(|(_, t)| *t == v.title.stored_title())
            .map(|(id, _)| *id)
            .unwrap_or_else(|| panic!("imported {:?}", v.title.value));
        jobs.push(Made {
            id,
            values: v,
            owner: None,
        });
    }
    // `import` dates its jobs by the real clock: the board's moves past them,
    // so they are old news to the alerts made next.
    let newest = app
        .scalar("SELECT max(published_at) FROM jobs WHERE id >= ?1", 0)
        .await;
    app.clock.set(newest.max(app.clock.unix()) + 1);

    let mut families: Vec<Family> = Vec::new();
    for (n, (code, _)) in FAMILIES.iter().enumerate() {
        let family = family_flow(&s, &admin, n, code, &mut jobs).await;
        families.push(family);
    }
    s.approve(&admin, 1).await;
    let mut apis = Vec::new();
    for (n, fam) in families.iter().enumerate() {
        apis.push(api_flow(&s, n, fam, &mut jobs).await);
    }
    s.approve(&admin, 2).await;

    // Last, each form poster saves their company profile again: the
    // profile's own values (not the job form's) are what the public sees.
    for (n, fam) in families.iter().enumerate() {
        profile(fam, n, &mut jobs).await;
    }
    app.index();

    public_pages(&s, &admin, &families, &jobs).await;
    owner_and_admin_pages(&s, &admin, &families, &apis, &jobs).await;
    reflected(&s, &admin, &families).await;
    emails(&s);

    eprintln!(
        "XSS sweep: {} hostile values in {} families; {} pages, {} JSON-LD blocks, {} feeds and sitemaps, {} JSON answers, {} emails checked in {:.1} s; {} finding(s)",
        f.values.borrow(),
        FAMILIES.len(),
        f.pages.borrow(),
        f.json.borrow(),
        f.feeds.borrow(),
        f.answers.borrow(),
        f.emails.borrow(),
        started.elapsed().as_secs_f64(),
        f.count(),
    );
    f.assert_none();
}

/// Paid posting: the confirmation page, the receipt email, the employer's
/// receipts and the admin's payments show each family's title inertly.
#[tokio::test]
async fn paid_posts_show_hostile_titles_inertly_in_receipts_and_payments() {
    let smtp = SmtpServer::start();
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let board = crate::payments::PaidBoard::with_env(&[
        ("JOBBOARD_MAIL_TRANSPORT", "smtp"),
        ("JOBBOARD_MAIL_SMTP_URL", &smtp_url),
        ("JOBBOARD_LIMITS_ENABLED", "false"),
    ]);
    let app = &board.app;
    let s = Sweep {
        app,
        smtp: &smtp,
        f: Findings::default(),
        mails: RefCell::new(Vec::new()),
        approvals: RefCell::new(Vec::new()),
    };
    app.create_user(ADMIN, true).await;
    let admin = Agent::new(app, "10.67.0.1").await;
    assert_eq!(admin.b.login(ADMIN).await.status, 303);
    let employer = Agent::new(app, "10.67.0.2").await;
    let email = payloads::email(&marker('u', "em", "pa"), "employer.example");
    s.f.remember(&marker('u', "em", "pa"));
    let registered = employer
        .post("/register", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    let mut shown = vec![email.clone()];
    for (code, _) in FAMILIES {
        let v = JobValues::new(&s.f, 'f', code, &[], false);
        let draft = employer.post("/post", &v.form()).await;
        let id: i64 = draft
            .location()
            .and_then(|l| l.strip_prefix("/post/"))
            .and_then(|l| l.split('/').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a draft ({code}): {}", draft.body));
        let session = board.checkout(&employer.b, id, false).await;
        board.pay_and_notify(&session).await;
        let title = v.title.stored_title();
        s.visit(
            &employer,
            &board.success_path(&session),
            &[title.clone(), email.clone()],
        )
        .await;
        let receipt = smtp
            .messages()
            .into_iter()
            .rev()
            .find(|m| {
                m.to == [email.clone()]
                    && crate::common::mail::parse(&m.data)
                        .subject
                        .starts_with("Receipt")
            })
            .expect("a receipt");
        s.f.email(
            &format!("the receipt for {code}"),
            &receipt,
            &email,
            "Receipt: Job post",
            &[&title],
        );
        shown.push(title);
    }
    s.visit(&employer, "/dashboard/receipts", &shown).await;
    s.visit(&admin, "/admin/payments", &shown).await;
    emails(&s);
    s.f.assert_none();
}

/// One family: an alert, a refused form, a job through the form (signed up
/// inline, rejected with a reason, edited on the dashboard, left for the
/// first wave of approvals) and a company profile.
async fn family_flow<'a>(
    s: &Sweep<'a>,
    admin: &Agent<'a>,
    n: usize,
    code: &'static str,
    jobs: &mut Vec<Made>,
) -> Family<'a> {
    let f = &s.f;
    let app = s.app;
    let u = |field: &str| marker('u', field, code);
    let alert_q = f.hostile(u("aq"), payloads::text(code, &u("aq")));
    let search_q = f.hostile(u("sq"), payloads::text(code, &u("sq")));
    let spans = [search_q.value.clone(), alert_q.value.clone()];
    let spans = refs(&spans);

    // The alert, confirmed by the link in its email.
    let seeker = Agent::new(app, &format!("10.66.{n}.10")).await;
    let alert_email = payloads::email(&u("al"), "seeker.example");
    f.remember(&u("al"));
    let tags_input = format!(
        "{}<b>, \"><img src=x onerror=alert(1)>, {{{{7*7}}}}",
        marker('u', "tg", code)
    );
    let form_page = seeker
        .get(&format!(
            "/alerts?{}",
            serde_urlencoded::to_string([("q", &alert_q.value), ("tag", &tags_input)])
                .expect("query")
        ))
        .await;
    s.page("GET /alerts?q=…", &form_page, 200, &[alert_q.stored()]);
    let made = seeker
        .post(
            "/alerts",
            &[
                ("email", &alert_email),
                ("frequency", "instant"),
                ("q", &alert_q.value),
                ("tag", &tags_input),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "alert {code}: {}", made.body);
    app.run_pending_tasks();
    let summary = alert_q.stored();
    s.expect_mail(
        "alert confirmation",
        &alert_email,
        "Confirm your job alert on Job Board".into(),
        vec![summary.clone()],
    );
    let confirm = confirm_link(s, &alert_email);
    let confirmed = seeker.get(&confirm).await;
    s.page(
        &format!("GET /alerts/confirm/… ({code})"),
        &confirmed,
        200,
        std::slice::from_ref(&summary),
    );
    let manage = link_in(&confirmed.body, "/alerts/manage/").expect("a manage link");
    // Jobs published from now on are new to the alert.
    app.clock.advance(1);

    // A refused job form shows what was typed, inert.
    refused_job_form(s, n, code).await;

    // A job through /post: a visitor fills the form, then signs up inline.
    let form_values = JobValues::new(f, 'f', code, &spans, false);
    let poster = Agent::new(app, &format!("10.66.{n}.20")).await;
    let poster_email = payloads::email(&marker('f', "em", code), "employer.example");
    f.remember(&marker('f', "em", code));
    let mut fields = form_values.form();
    let odd_name = f.hostile(
        marker('f', "fn", code),
        payloads::text(code, &marker('f', "fn", code)),
    );
    fields.push((odd_name.value.as_str(), "carried"));
    let account = poster.post("/post", &fields).await;
    let mut carried: Vec<String> = vec![
        form_values.title.value.clone(),
        form_values.company.value.clone(),
        form_values.website.value.clone(),
        form_values.location.value.clone(),
        form_values.description.clone(),
        form_values.tags_input.clone(),
        odd_name.value.clone(),
    ];
    carried.extend(form_values.apply_url.iter().map(|h| h.value.clone()));
    s.page(
        &format!("POST /post, the account step ({code})"),
        &account,
        200,
        &carried,
    );
    fields.push(("account", "register"));
    fields.push(("email", &poster_email));
    fields.push(("password", PASSWORD));
    let created = poster.post("/post", &fields).await;
    assert_eq!(
        created.status, 303,
        "the /post form ({code}) with {poster_email}: {}",
        created.body
    );
    let preview_path = created.location().expect("a preview").to_string();
    let id: i64 = preview_path
        .trim_start_matches("/post/")
        .split('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a job id");
    s.expect_mail(
        "verification",
        &poster_email,
        "Verify your email for Job Board".into(),
        vec![],
    );
    s.visit(&poster, &preview_path, &form_values.page()).await;
    s.visit(&poster, &format!("/post/{id}/edit"), &form_values.edit())
        .await;
    let submitted = poster.post(&format!("/post/{id}/submit"), &[]).await;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    s.visit(
        &poster,
        &format!("/post/{id}/done"),
        &[form_values.title.stored_title(), poster_email.clone()],
    )
    .await;
    s.expect_mail(
        "review request",
        ADMIN,
        format!("Waiting for review: {}", form_values.title.stored_title()),
        vec![
            form_values.title.stored_title(),
            form_values.company.stored(),
        ],
    );

    // The admin sees it waiting and rejects it with a hostile reason.
    let owner_shown = vec![
        form_values.title.stored_title(),
        form_values.company.stored(),
        poster_email.clone(),
    ];
    s.visit(admin, "/admin", &owner_shown).await;
    s.visit(admin, &format!("/admin/jobs/{id}"), &owner_shown)
        .await;
    let reason = f.hostile(u("rr"), payloads::text(code, &u("rr")));
    let rejected = admin
        .post(
            &format!("/admin/jobs/{id}/reject"),
            &[("reason", &reason.value), ("back", "/admin")],
        )
        .await;
    assert_eq!(rejected.status, 303, "{}", rejected.body);
    s.expect_mail(
        "rejection",
        &poster_email,
        format!(
            "Your job was not approved: {}",
            form_values.title.stored_title()
        ),
        vec![
            form_values.title.stored_title(),
            form_values.company.stored(),
            reason.value.trim().to_string(),
        ],
    );
    let mut with_reason = owner_shown.clone();
    with_reason.push(reason.value.trim().to_string());
    s.visit(admin, &format!("/admin/jobs/{id}"), &with_reason)
        .await;
    s.visit(
        &poster,
        "/dashboard",
        &[
            form_values.title.stored_title(),
            reason.value.trim().to_string(),
            poster_email.clone(),
        ],
    )
    .await;
    // The admin's reject form refuses an over-long reason and shows it again.
    let long = format!("{}{}", reason.value, "x".repeat(2100));
    let refused = admin
        .post(&format!("/admin/jobs/{id}/reject"), &[("reason", &long)])
        .await;
    s.page(
        &format!("POST /admin/jobs/{id}/reject, refused ({code})"),
        &refused,
        422,
        std::slice::from_ref(&long),
    );

    // The company profile, refused then saved: it renames the job's company.
    let (name, website) = company_profile(s, &poster, code, id).await;
    let mut renamed = form_values.clone();
    renamed.company = name;
    renamed.website = website;

    // The employer edits the job from the dashboard: new hostile values.
    s.visit(
        &poster,
        &format!("/dashboard/jobs/{id}/edit"),
        &renamed.edit(),
    )
    .await;
    let edited_values = JobValues::new(f, 'd', code, &spans, false);
    let edited = poster
        .post(&format!("/dashboard/jobs/{id}/edit"), &edited_values.form())
        .await;
    assert_eq!(
        edited.status, 303,
        "dashboard edit ({code}): {}",
        edited.body
    );
    s.expect_mail(
        "review request after an edit",
        ADMIN,
        format!("Waiting for review: {}", edited_values.title.stored_title()),
        vec![
            edited_values.title.stored_title(),
            edited_values.company.stored(),
        ],
    );
    s.approve_later(1, id, &poster_email, &alert_email, &summary, &edited_values);
    jobs.push(Made {
        id,
        values: edited_values,
        owner: Some(n * 2),
    });

    Family {
        code,
        poster,
        poster_email,
        seeker,
        alert_email,
        alert_q,
        search_q,
        manage,
        reason,
    }
}

/// An employer posting through the API with a token made on the dashboard.
struct ApiEmployer<'a> {
    api: Agent<'a>,
    api_email: String,
    token: String,
}

/// A second employer of a family makes a token on the dashboard and posts
/// by API.
async fn api_flow<'a>(
    s: &Sweep<'a>,
    n: usize,
    fam: &Family<'a>,
    jobs: &mut Vec<Made>,
) -> ApiEmployer<'a> {
    let f = &s.f;
    let app = s.app;
    let code = fam.code;
    let u = |field: &str| marker('u', field, code);
    let spans = [fam.search_q.value.clone(), fam.alert_q.value.clone()];
    let spans = refs(&spans);
    // A second employer makes a token on the dashboard and posts by API.
    let api = Agent::new(app, &format!("10.66.{n}.30")).await;
    let api_email = payloads::email(&marker('a', "em", code), "employer.example");
    f.remember(&marker('a', "em", code));
    let registered = api
        .post(
            "/register",
            &[("email", &api_email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        registered.status, 303,
        "register {api_email}: {}",
        registered.body
    );
    s.expect_mail(
        "verification",
        &api_email,
        "Verify your email for Job Board".into(),
        vec![],
    );
    let token_name = f.hostile(u("tk"), payloads::text(code, &u("tk")));
    let made = api
        .post("/dashboard/tokens", &[("name", &token_name.value)])
        .await;
    s.page(
        &format!("POST /dashboard/tokens ({code})"),
        &made,
        200,
        &[token_name.value.trim().to_string()],
    );
    let token = shown_token(&made.body).expect("the new token");
    let long = format!("{}{}", token_name.value, "y".repeat(100));
    let refused = api.post("/dashboard/tokens", &[("name", &long)]).await;
    s.page(
        &format!("POST /dashboard/tokens, refused ({code})"),
        &refused,
        422,
        &[long.trim().to_string()],
    );
    let api_values = JobValues::new(f, 'a', code, &spans, true);
    let resp = app
        .http
        .post("/api/v1/jobs")
        .header("authorization", format!("Bearer {token}"))
        .body_json(&api_values.json())
        .send()
        .await;
    let status = resp.0.status().as_u16();
    let body = body_text(resp).await;
    assert_eq!(status, 201, "POST /api/v1/jobs ({code}): {body}");
    let answer = json_same(
        s,
        &format!("POST /api/v1/jobs ({code})"),
        &body,
        &api_values,
    );
    let api_id = answer["id"].as_i64().expect("an id");
    s.expect_mail(
        "review request for an API post",
        ADMIN,
        format!("Waiting for review: {}", api_values.title.stored_title()),
        vec![api_values.title.stored_title(), api_values.company.stored()],
    );
    s.approve_later(
        2,
        api_id,
        &api_email,
        &fam.alert_email,
        &fam.alert_q.stored(),
        &api_values,
    );
    jobs.push(Made {
        id: api_id,
        values: api_values,
        owner: Some(n * 2 + 1),
    });

    ApiEmployer {
        api,
        api_email,
        token,
    }
}

/// The `/post` form refused: every field hostile, and invalid where the
/// board checks it. The form comes back (422) with what was typed.
async fn refused_job_form(s: &Sweep<'_>, n: usize, code: &'static str) {
    let (fields, shown) = refused_fields(&s.f, code);
    let visitor = Agent::new(s.app, &format!("10.66.{n}.40")).await;
    let page = visitor.post("/post", &pairs(&fields)).await;
    s.page(&format!("POST /post, refused ({code})"), &page, 422, &shown);
}

/// A job form hostile in every field and invalid where the board checks:
/// its fields, and what the form must show again.
fn refused_fields(f: &Findings, code: &'static str) -> (Vec<(&'static str, String)>, Vec<String>) {
    let e = |field: &str| {
        let m = marker('e', field, code);
        f.hostile(m.clone(), payloads::text(code, &m))
    };
    let (title, company, location, currency, timezones, salary) =
        (e("ti"), e("co"), e("lo"), e("cu"), e("tz"), e("sm"));
    let (category, job_type, period, remote) = (e("ca"), e("jt"), e("pe"), e("re"));
    let website = f.hostile(
        marker('e', "ws", code),
        format!("javascript:alert('{}')", marker('e', "ws", code)),
    );
    let apply = f.hostile(
        marker('e', "au", code),
        format!(" JaVaScRiPt:alert('{}')", marker('e', "au", code)),
    );
    let email = e("ae");
    let tags = format!("<>, {}", e("tg").value);
    let (description, _) = payloads::description('e', code, &[]);
    let fields = vec![
        ("title", title.value.clone()),
        ("company_name", company.value.clone()),
        ("company_website", website.value.clone()),
        ("description", description.clone()),
        ("category", category.value),
        ("job_type", job_type.value),
        ("tags", tags.clone()),
        ("remote", remote.value),
        ("timezones", timezones.value.clone()),
        ("location", location.value.clone()),
        ("salary_min", salary.value.clone()),
        ("salary_currency", currency.value.clone()),
        ("salary_period", period.value),
        ("apply_url", apply.value.clone()),
        ("apply_email", email.value.clone()),
    ];
    let shown = [
        title, company, website, location, timezones, salary, currency, apply, email,
    ]
    .into_iter()
    .map(|h| h.value)
    .chain([description, tags])
    .collect();
    (fields, shown)
}

fn pairs<'v>(fields: &'v [(&'static str, String)]) -> Vec<(&'static str, &'v str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The company profile: refused with a `javascript:` website (shown again),
/// then saved; checked on the dashboard and the company's page.
async fn company_profile(
    s: &Sweep<'_>,
    poster: &Agent<'_>,
    code: &'static str,
    job: i64,
) -> (Hostile, Hostile) {
    let f = &s.f;
    let p = |field: &str| marker('p', field, code);
    let name = f.hostile(p("cn"), payloads::text(code, &p("cn")));
    let website = f.hostile(p("cw"), payloads::url(code, &p("cw")));
    let (description, visible) = payloads::description('p', code, &[]);
    for (c, _, _) in payloads::MARKDOWN {
        f.remember(&p(&format!("m{c}")));
    }
    let bad = f.hostile(p("ws"), format!("javascript:alert('{}')//", p("ws")));
    let refused = poster
        .post(
            "/dashboard/company",
            &[
                ("company_name", &name.value),
                ("company_website", &bad.value),
                ("company_description", &description),
            ],
        )
        .await;
    s.page(
        &format!("POST /dashboard/company, refused ({code})"),
        &refused,
        422,
        &[name.value.clone(), bad.value.clone(), description.clone()],
    );
    let saved = poster
        .post(
            "/dashboard/company",
            &[
                ("company_name", &name.value),
                ("company_website", &website.value),
                ("company_description", &description),
            ],
        )
        .await;
    assert_eq!(
        saved.status, 303,
        "company profile ({code}): {}",
        saved.body
    );
    s.visit(
        poster,
        "/dashboard/company",
        &[
            name.value.trim().to_string(),
            website.value.clone(),
            description.clone(),
        ],
    )
    .await;
    let slug = s.slug_of_company(job).await;
    let mut shown = vec![name.value.trim().to_string(), website.value.clone()];
    shown.extend(visible);
    s.visit(poster, &format!("/companies/{slug}"), &shown).await;
    // The profile keeps the name as the job input does.
    let kept = Hostile::new(name.marker.clone(), name.stored());
    (kept, website)
}

/// The profile saved again at the end: the form poster's job now shows it.
async fn profile(fam: &Family<'_>, n: usize, jobs: &mut [Made]) {
    let code = fam.code;
    let p = |field: &str| marker('p', field, code);
    let name = Hostile::new(p("cn"), payloads::text(code, &p("cn")));
    let website = Hostile::new(p("cw"), payloads::url(code, &p("cw")));
    let (description, _) = payloads::description('p', code, &[]);
    let saved = fam
        .poster
        .post(
            "/dashboard/company",
            &[
                ("company_name", &name.value),
                ("company_website", &website.value),
                ("company_description", &description),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    for job in jobs.iter_mut().filter(|j| j.owner == Some(n * 2)) {
        job.values.company = name.clone();
        job.values.website = website.clone();
    }
}

/// Checks a JSON answer holds the job's values as data; returns it.
fn json_same(s: &Sweep<'_>, place: &str, body: &str, v: &JobValues) -> Value {
    *s.f.answers.borrow_mut() += 1;
    s.f.evaluated(place, body);
    let job: Value = match serde_json::from_str(body) {
        Ok(j) => j,
        Err(e) => {
            s.f.fail(place, &format!("not JSON ({e})"), body);
            return Value::Null;
        }
    };
    let same = |what: &str, got: &Value, want: &str| {
        if got.as_str() != Some(want) {
            s.f.fail(
                place,
                &format!("{what} is {got}, not the value as typed"),
                want,
            );
        }
    };
    same("title", &job["title"], &v.title.stored_title());
    same("company.name", &job["company"]["name"], &v.company.stored());
    same(
        "company.website",
        &job["company"]["website"],
        &v.website.stored(),
    );
    same("location", &job["location"], &v.location.stored());
    // The form sends line ends as CRLF, and the board keeps LF.
    let lf = payloads::stored(&v.description.replace("\r\n", "\n"));
    if job["description"].as_str() != Some(&lf) {
        same(
            "description",
            &job["description"],
            &payloads::stored(&v.description),
        );
    }
    if let Some(u) = &v.apply_url {
        same("apply_url", &job["apply_url"], &u.stored());
    }
    if let Some(e) = &v.apply_email {
        same("apply_email", &job["apply_email"], &e.stored());
    }
    let html = job["description_html"].as_str().unwrap_or("");
    s.f.html(
        &format!("{place} description_html"),
        html,
        Kind::Fragment,
        &refs(&v.visible),
    );
    job
}

/// The public pages, feeds, sitemap and API answers.
async fn public_pages(s: &Sweep<'_>, admin: &Agent<'_>, families: &[Family<'_>], jobs: &[Made]) {
    let f = &s.f;
    let app = s.app;
    let visitor = Agent::new(app, "10.66.200.1").await;
    let cards: Vec<String> = jobs.iter().flat_map(|j| j.values.card()).collect();
    s.visit(&visitor, "/jobs?per_page=100", &cards).await;
    s.visit(&visitor, "/", &[]).await;
    for job in jobs {
        let v = &job.values;
        let id = job.id;
        let path = format!("/jobs/{id}");
        let moved = visitor.get(&path).await;
        let Some(at) = moved.location().map(String::from) else {
            f.fail(
                &format!("GET {path}"),
                "no redirect to the job's page",
                &moved.body,
            );
            continue;
        };
        let api = app.get(&format!("/api/v1/jobs/{id}")).await;
        let api_body = body_text(api).await;
        let json = json_same(s, &format!("GET /api/v1/jobs/{id}"), &api_body, v);
        let page = visitor.get(&at).await;
        let ld = s.page(&format!("GET {at}"), &page, 200, &v.page());
        f.job_head(
            &format!("GET {at}"),
            &page.body,
            &v.title.stored_title(),
            &v.company.stored(),
            &jobboard::markdown::summary(&payloads::stored(&v.description), 200),
        );
        f.json_ld(
            &format!("GET {at}"),
            &ld,
            &JsonLd {
                title: v.title.stored_title(),
                company: v.company.stored(),
                website: Some(v.website.stored()),
                location: Some(v.location.stored()),
                description_html: json["description_html"].as_str().unwrap_or("").to_string(),
            },
        );
        let apply = visitor.get(&format!("/jobs/{id}/apply")).await;
        match (&v.apply_url, &v.apply_email) {
            (Some(url), _)
                if apply.status != 302 || apply.location() != Some(url.stored().as_str()) =>
            {
                f.fail(
                    &format!("GET /jobs/{id}/apply"),
                    &format!(
                        "answered {} to {:?}, not the apply URL",
                        apply.status,
                        apply.location()
                    ),
                    &url.value,
                );
            }
            (None, Some(email)) => {
                s.page(
                    &format!("GET /jobs/{id}/apply"),
                    &apply,
                    200,
                    &[v.title.stored_title(), v.company.stored(), email.stored()],
                );
            }
            _ => {}
        }
        let slug = s.slug_of_company(id).await;
        let mut company = v.card();
        company.push(v.website.stored());
        s.visit(&visitor, &format!("/companies/{slug}"), &company)
            .await;
        let answer = app.get(&format!("/api/v1/companies/{slug}")).await;
        let answer = body_text(answer).await;
        if serde_json::from_str::<Value>(&answer).map_or(true, |a| {
            a["company"]["name"].as_str() != Some(&v.company.stored())
        }) {
            f.fail(
                &format!("GET /api/v1/companies/{slug}"),
                "not JSON with the company's name as data",
                &answer,
            );
        }
        s.visit(
            admin,
            &format!("/admin/jobs/{id}"),
            &[v.title.stored_title(), v.company.stored()],
        )
        .await;
        s.visit(admin, &format!("/admin/jobs/{id}/edit"), &v.edit())
            .await;
    }
    // Search for each family's words: results, snippets, the API and feeds.
    for fam in families {
        let q = serde_urlencoded::to_string([("q", &fam.search_q.value)]).expect("q");
        let mine: Vec<&Made> = jobs
            .iter()
            .filter(|j| j.values.family == fam.code)
            .collect();
        let mut shown: Vec<String> = mine.iter().flat_map(|j| j.values.card()).collect();
        shown.push(fam.search_q.value.trim().to_string());
        s.visit(&visitor, &format!("/jobs?{q}"), &shown).await;
        let answer = body_text(app.get(&format!("/api/v1/jobs?{q}")).await).await;
        match serde_json::from_str::<Value>(&answer) {
            Ok(a) if a["total"].as_u64() == Some(mine.len() as u64) => {}
            _ => f.fail(
                &format!("GET /api/v1/jobs?{q}"),
                &format!("not JSON finding the family's {} jobs", mine.len()),
                &answer,
            ),
        }
        let feed = body_text(app.get(&format!("/feed.xml?{q}")).await).await;
        let mut titles: Vec<String> = mine
            .iter()
            .map(|j| {
                format!(
                    "{} at {}",
                    j.values.title.stored_title(),
                    j.values.company.stored()
                )
            })
            .collect();
        titles.push(fam.search_q.value.trim().to_string());
        f.xml(&format!("GET /feed.xml?{q}"), &feed, &refs(&titles));
    }
    let feed = body_text(app.get("/feed.xml").await).await;
    f.xml("GET /feed.xml", &feed, &[]);
    let sitemap = body_text(app.get("/sitemap.xml").await).await;
    for loc in f.xml("GET /sitemap.xml", &sitemap, &[]) {
        if let Some(part) = loc
            .strip_prefix(BASE)
            .filter(|p| p.starts_with("/sitemaps/"))
        {
            let body = body_text(app.get(part).await).await;
            f.xml(&format!("GET {part}"), &body, &[]);
        }
    }
}

/// The employers' own pages, the admin's lists, the alert pages.
async fn owner_and_admin_pages(
    s: &Sweep<'_>,
    admin: &Agent<'_>,
    families: &[Family<'_>],
    apis: &[ApiEmployer<'_>],
    jobs: &[Made],
) {
    for (n, (fam, api)) in families.iter().zip(apis).enumerate() {
        for (k, who, email) in [
            (n * 2, &fam.poster, &fam.poster_email),
            (n * 2 + 1, &api.api, &api.api_email),
        ] {
            let mine: Vec<&Made> = jobs.iter().filter(|j| j.owner == Some(k)).collect();
            let mut shown: Vec<String> =
                mine.iter().map(|j| j.values.title.stored_title()).collect();
            shown.push(email.clone());
            s.visit(who, "/dashboard", &shown).await;
            for job in &mine {
                s.visit(
                    who,
                    &format!("/dashboard/jobs/{}/edit", job.id),
                    &job.values.edit(),
                )
                .await;
                // The edit forms refuse hostile nonsense and show it again.
                let (fields, refused) = refused_fields(&s.f, fam.code);
                for (agent, path) in [
                    (who, format!("/dashboard/jobs/{}/edit", job.id)),
                    (admin, format!("/admin/jobs/{}/edit", job.id)),
                ] {
                    let page = agent.post(&path, &pairs(&fields)).await;
                    s.page(&format!("POST {path}, refused"), &page, 422, &refused);
                }
                s.visit(
                    who,
                    &format!("/dashboard/jobs/{}/delete", job.id),
                    &[job.values.title.stored_title()],
                )
                .await;
                let answer = s
                    .app
                    .http
                    .get(format!("/api/v1/jobs/{}", job.id))
                    .header("authorization", format!("Bearer {}", api.token))
                    .send()
                    .await;
                if k == n * 2 + 1 {
                    let body = body_text(answer).await;
                    json_same(
                        s,
                        &format!("GET /api/v1/jobs/{} with its token", job.id),
                        &body,
                        &job.values,
                    );
                }
            }
        }
        s.visit(&api.api, "/dashboard/tokens", &[]).await;
        let summary = fam.alert_q.stored();
        let manage = fam.seeker.get(&fam.manage).await;
        s.page(
            &format!("GET /alerts/manage/… ({})", fam.code),
            &manage,
            200,
            &[summary.clone(), fam.alert_email.clone()],
        );
        match link_in(&manage.body, "/alerts/unsubscribe/") {
            Some(unsubscribe) => {
                s.visit(&fam.seeker, &unsubscribe, std::slice::from_ref(&summary))
                    .await;
            }
            None => {
                s.f.fail("the manage page", "no unsubscribe link", &manage.body)
            }
        }
    }
    let all: Vec<String> = jobs
        .iter()
        .flat_map(|j| [j.values.title.stored_title(), j.values.company.stored()])
        .collect();
    s.visit(admin, "/admin/jobs?per_page=100", &all).await;
    let users: Vec<String> = families
        .iter()
        .zip(apis)
        .flat_map(|(f, a)| [f.poster_email.clone(), a.api_email.clone()])
        .collect();
    s.visit(admin, "/admin/users", &users).await;
    // The audit log names each rejection's reason.
    let reasons: Vec<String> = families.iter().map(|f| f.reason.stored()).collect();
    s.visit(admin, "/admin", &reasons).await;
}

/// Query strings a page shows again: search words and filters, the alert
/// form's, `next`, the admin's filters; and error pages.
async fn reflected(s: &Sweep<'_>, admin: &Agent<'_>, families: &[Family<'_>]) {
    let f = &s.f;
    let visitor = Agent::new(s.app, "10.66.201.1").await;
    for fam in families {
        let code = fam.code;
        let r = |field: &str| {
            let m = marker('r', field, code);
            f.hostile(m.clone(), payloads::text(code, &m))
        };
        let q = r("sq");
        let query = serde_urlencoded::to_string([
            ("q", q.value.as_str()),
            ("tag", &r("tg").value),
            ("category", &r("ca").value),
            ("remote", &r("re").value),
            ("job_type", &r("jt").value),
            ("salary_min", &r("sm").value),
            ("sort", &q.value),
            ("page", &q.value),
            ("posted_within", &q.value),
        ])
        .expect("query");
        let words = q.value.trim().chars().take(200).collect::<String>();
        s.visit(
            &visitor,
            &format!("/jobs?{query}"),
            std::slice::from_ref(&words),
        )
        .await;
        s.visit(
            &visitor,
            &format!("/?{query}"),
            std::slice::from_ref(&words),
        )
        .await;
        let feed = body_text(s.app.get(&format!("/feed.xml?{query}")).await).await;
        f.xml(&format!("GET /feed.xml?{query}"), &feed, &[&words]);
        s.visit(
            &visitor,
            &format!("/alerts?{query}"),
            std::slice::from_ref(&words),
        )
        .await;
        let answer = s.app.get(&format!("/api/v1/jobs?{query}")).await;
        let answer = body_text(answer).await;
        if serde_json::from_str::<Value>(&answer).is_err() {
            f.fail(&format!("GET /api/v1/jobs?{query}"), "not JSON", &answer);
        }
        let next = format!("/{}", r("nx").value);
        let next_q = serde_urlencoded::to_string([("next", &next)]).expect("next");
        let safe = !next.chars().any(|c| c.is_control() || c == '\\');
        let shown = if safe { vec![next.clone()] } else { vec![] };
        s.visit(&visitor, &format!("/login?{next_q}"), &shown).await;
        s.visit(&visitor, &format!("/register?{next_q}"), &shown)
            .await;
        let filters = serde_urlencoded::to_string([
            ("q", r("aj").value.as_str()),
            ("owner", &r("ao").value),
            ("status", &q.value),
        ])
        .expect("filters");
        s.visit(admin, &format!("/admin/jobs?{filters}"), &[]).await;
        s.visit(
            admin,
            &format!("/admin/payments?status={}", urlencode(&q.value)),
            &[],
        )
        .await;
        let missing = visitor
            .get(&format!("/companies/{}", urlencode(&q.value)))
            .await;
        s.page(&format!("GET /companies/… ({code})"), &missing, 404, &[]);
        let missing = visitor
            .get(&format!("/jobs/9999-{}", urlencode(&q.value)))
            .await;
        s.page(&format!("GET /jobs/9999-… ({code})"), &missing, 404, &[]);
        // Refused account and alert forms show the typed address again.
        let email = r("em");
        let refused = visitor
            .post(
                "/register",
                &[("email", &email.value), ("password", PASSWORD)],
            )
            .await;
        s.page(
            &format!("POST /register, refused ({code})"),
            &refused,
            422,
            std::slice::from_ref(&email.value),
        );
        let refused = visitor
            .post("/login", &[("email", &email.value), ("password", PASSWORD)])
            .await;
        s.page(
            &format!("POST /login, refused ({code})"),
            &refused,
            422,
            &[],
        );
        let refused = visitor
            .post(
                "/alerts",
                &[
                    ("email", &email.value),
                    ("frequency", &q.value),
                    ("q", &q.value),
                    ("tag", &r("at").value),
                ],
            )
            .await;
        s.page(
            &format!("POST /alerts, refused ({code})"),
            &refused,
            422,
            &[email.value.clone(), q.value.clone()],
        );
    }
}

/// Checks every email the SMTP server got: those the sweep expects (by
/// recipient and subject) show their values; all have only the board's
/// headers and an inert HTML part.
fn emails(s: &Sweep<'_>) {
    s.app.run_pending_tasks();
    let got = s.smtp.messages();
    let subjects: Vec<String> = got
        .iter()
        .map(|m| norm(&decode_words(&crate::common::mail::parse(&m.data).subject)))
        .collect();
    let mut used = vec![false; got.len()];
    for want in s.mails.borrow().iter() {
        let place = format!("the {} email to {}", want.what, want.to);
        let subject = norm(&want.subject);
        let found: Vec<usize> = (0..got.len())
            .filter(|&i| got[i].to == [want.to.clone()] && subjects[i] == subject)
            .collect();
        if found.is_empty() {
            s.f.fail(
                &place,
                "never sent, or its subject is altered",
                &want.subject,
            );
        }
        for i in found {
            used[i] = true;
            s.f.email(&place, &got[i], &want.to, &want.subject, &refs(&want.shown));
        }
    }
    for (i, m) in got.iter().enumerate().filter(|(i, _)| !used[*i]) {
        let subject = decode_words(&crate::common::mail::parse(&m.data).subject);
        s.f.email(
            &format!("email #{i} ({subject:?})"),
            m,
            m.to.first().map_or("", String::as_str),
            &subject,
            &[],
        );
    }
}

/// The confirmation link of the newest alert email to `to`.
fn confirm_link(s: &Sweep<'_>, to: &str) -> String {
    s.smtp
        .messages()
        .iter()
        .rev()
        .filter(|m| m.to == [to.to_string()])
        .find_map(|m| {
            link_in(
                &crate::common::mail::parse(&m.data).text,
                "/alerts/confirm/",
            )
        })
        .unwrap_or_else(|| panic!("a confirmation email to {to}"))
}

/// The first `{BASE}{prefix}…` link in a text, as a path.
fn link_in(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)?;
    let rest = &text[at..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .unwrap_or(rest.len());
    Some(rest[..end].replace("&amp;", "&"))
}

/// The token shown once on the page answering its creation.
fn shown_token(body: &str) -> Option<String> {
    let at = body.find("<code id=\"new-token\">")? + "<code id=\"new-token\">".len();
    let end = body[at..].find('<')?;
    Some(body[at..at + end].to_string())
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .expect("encode")
        .trim_start_matches("x=")
        .to_string()
}
