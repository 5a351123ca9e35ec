//! Who may do what: every page and action of accounts, posting, the
//! dashboard, the admin and the write API, for a visitor, two employers, a
//! disabled user and an admin. A refusal changes nothing and leaks nothing.

use jobboard::clock::Clock;
use poem::http::Method;
use serde_json::json;

use crate::common::TestApp;
use crate::common::browser::{Browser, Page};

/// What a role should get.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// 200.
    Ok,
    /// 303 to the sign-in page.
    Login,
    /// 403.
    Forbidden,
    /// 404.
    Missing,
}

fn check(page: &Page, want: Want, who: &str, what: &str) {
    let ok = match want {
        Want::Ok => page.status == 200,
        Want::Login => {
            page.status == 303
                && page
                    .location()
                    .is_some_and(|l| l.starts_with("/login?next="))
        }
        Want::Forbidden => page.status == 403,
        Want::Missing => page.status == 404,
    };
    assert!(
        ok,
        "{who} on {what}: wanted {want:?}, got {} {:?}",
        page.status,
        page.location()
    );
}

/// Everything a refused request must leave as it was.
async fn snapshot(app: &TestApp) -> String {
    app.state
        .db
        .read(|c| {
            let mut out = String::new();
            let mut stmt = c.prepare(
                "SELECT id, title, status, featured, hidden, deleted_at, expires_at, owner_id \
                 FROM jobs ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(format!(
                    "{:?}",
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                    )
                ))
            })?;
            for row in rows {
                out.push_str(&row?);
                out.push('\n');
            }
            let mut stmt =
                c.prepare("SELECT id, role, disabled_at, company_id FROM users ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(format!(
                    "{:?}",
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    )
                ))
            })?;
            for row in rows {
                out.push_str(&row?);
                out.push('\n');
            }
            let tokens: i64 = c.query_row(
                "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL",
                [],
                |r| r.get(0),
            )?;
            let audit: i64 = c.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?;
            out.push_str(&format!("tokens {tokens} audit {audit}\n"));
            Ok(out)
        })
        .await
        .expect("snapshot")
}

async fn token_for(app: &TestApp, user: i64, name: &str) -> (i64, String) {
    let name = name.to_string();
    let now = app.clock.unix();
    app.state
        .db
        .write(move |tx| jobboard::accounts::store::create_api_token(tx, user, &name, now))
        .await
        .expect("token")
}

async fn api(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: &str) -> u16 {
    let mut req = match method {
        Method::PATCH => app.http.patch(path),
        Method::DELETE => app.http.delete(path),
        Method::POST => app.http.post(path),
        _ => app.http.get(path),
    };
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        req = req.content_type("application/json").body(body.to_string());
    }
    req.send().await.0.status().as_u16()
}

#[tokio::test]
async fn every_route_for_every_kind_of_user() {
    use Want::*;
    let app = TestApp::new();
    let a_id = app.create_user("a@employer.example", false).await;
    let b_id = app.create_user("b@employer.example", false).await;
    let d_id = app.create_user("d@disabled.example", false).await;
    app.create_user("root@board.example", true).await;

    let a_job = app
        .add_owned_job(a_id, "published", json!({"title": "Alpha Secret Role"}))
        .await;
    let a_draft = app
        .add_owned_job(a_id, "draft", json!({"title": "Alpha Draft Role"}))
        .await;
    let d_job = app
        .add_owned_job(d_id, "published", json!({"title": "Delta Hidden Role"}))
        .await;
    let (a_token_id, a_token) = token_for(&app, a_id, "alpha-ci").await;
    let (_, b_token) = token_for(&app, b_id, "beta-ci").await;
    let (_, d_token) = token_for(&app, d_id, "delta-ci").await;

    let visitor = Browser::new(&app, "10.6.0.1");
    let a = Browser::new(&app, "10.6.0.2");
    let b = Browser::new(&app, "10.6.0.3");
    let d = Browser::new(&app, "10.6.0.4");
    let admin = Browser::new(&app, "10.6.0.5");
    for (browser, email) in [
        (&a, "a@employer.example"),
        (&b, "b@employer.example"),
        (&d, "d@disabled.example"),
        (&admin, "root@board.example"),
    ] {
        assert_eq!(browser.login(email).await.status, 303, "{email} signs in");
    }
    // D is disabled after signing in: their session must stop working.
    let disabled = admin
        .post(&format!("/admin/users/{d_id}/disable"), &[])
        .await;
    assert_eq!(disabled.status, 303);
    app.index();

    let roles: [(&str, &Browser); 5] = [
        ("visitor", &visitor),
        ("employer A", &a),
        ("employer B", &b),
        ("disabled user", &d),
        ("admin", &admin),
    ];

    // Pages: (path, [visitor, A, B, disabled, admin]).
    let pages: Vec<(String, [Want; 5])> = vec![
        ("/".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/post".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/login".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/register".into(), [Ok, Ok, Ok, Ok, Ok]),
        ("/forgot-password".into(), [Ok, Ok, Ok, Ok, Ok]),
        (
            format!("/jobs/{a_job}-alpha-secret-role"),
            [Ok, Ok, Ok, Ok, Ok],
        ),
        (format!("/jobs/{a_draft}-alpha-draft-role"), [Missing; 5]),
        (format!("/jobs/{d_job}-delta-hidden-role"), [Missing; 5]),
        (format!("/jobs/{d_job}/apply"), [Missing; 5]),
        ("/dashboard".into(), [Login, Ok, Ok, Login, Ok]),
        ("/dashboard/company".into(), [Login, Ok, Ok, Login, Ok]),
        ("/dashboard/tokens".into(), [Login, Ok, Ok, Login, Ok]),
        (
            format!("/dashboard/jobs/{a_job}/edit"),
            [Login, Ok, Missing, Login, Missing],
        ),
        (
            format!("/dashboard/jobs/{a_job}/delete"),
            [Login, Ok, Missing, Login, Missing],
        ),
        (
            format!("/post/{a_draft}/preview"),
            [Login, Ok, Missing, Login, Missing],
        ),
        (
            format!("/post/{a_draft}/edit"),
            [Login, Ok, Missing, Login, Missing],
        ),
        (
            format!("/post/{a_job}/done"),
            [Login, Ok, Missing, Login, Missing],
        ),
        ("/admin".into(), [Login, Forbidden, Forbidden, Login, Ok]),
        (
            "/admin/jobs".into(),
            [Login, Forbidden, Forbidden, Login, Ok],
        ),
        (
            "/admin/users".into(),
            [Login, Forbidden, Forbidden, Login, Ok],
        ),
        (
            format!("/admin/jobs/{a_job}"),
            [Login, Forbidden, Forbidden, Login, Ok],
        ),
        (
            format!("/admin/jobs/{a_job}/edit"),
            [Login, Forbidden, Forbidden, Login, Ok],
        ),
    ];
    for (path, wants) in &pages {
        for ((who, browser), want) in roles.iter().zip(wants) {
            let page = browser.get(path).await;
            check(&page, *want, who, &format!("GET {path}"));
        }
    }

    // Nothing of A's reaches B's pages.
    for path in ["/dashboard", "/dashboard/tokens", "/dashboard/company"] {
        let page = b.get(path).await;
        for secret in [
            "Alpha Secret Role",
            "Alpha Draft Role",
            "alpha-ci",
            "a@employer.example",
        ] {
            assert!(!page.body.contains(secret), "B sees {secret:?} on {path}");
        }
    }
    assert!(
        admin
            .get("/admin/jobs")
            .await
            .body
            .contains("Alpha Secret Role")
    );

    // Actions that others must not perform: all refused, nothing changes.
    let before = snapshot(&app).await;
    let job_fields: &[(&str, &str)] = &[
        ("title", "Taken Over"),
        ("company_name", "Mallory Co"),
        ("description", "Mine now."),
        ("category", "data"),
        ("job_type", "contract"),
        ("remote", "worldwide"),
        ("apply_url", "https://mallory.example"),
        ("reason", "because"),
    ];
    let owner_actions: Vec<String> = ["edit", "fill", "renew", "duplicate", "submit", "delete"]
        .iter()
        .map(|act| format!("/dashboard/jobs/{a_job}/{act}"))
        .chain([
            format!("/dashboard/jobs/{a_draft}/submit"),
            format!("/dashboard/tokens/{a_token_id}/revoke"),
            format!("/post/{a_draft}/edit"),
            format!("/post/{a_draft}/submit"),
        ])
        .collect();
    for path in &owner_actions {
        let wants = [
            Login, Ok, /* owner: not tried here */
            Missing, Login, Missing,
        ];
        for (i, ((who, browser), want)) in roles.iter().zip(wants).enumerate() {
            if i == 1 {
                continue;
            }
            let page = browser.post(path, job_fields).await;
            check(&page, want, who, &format!("POST {path}"));
        }
    }
    let admin_actions: Vec<String> = [
        "edit",
        "approve",
        "reject",
        "feature",
        "unfeature",
        "expire",
        "delete",
    ]
    .iter()
    .map(|act| format!("/admin/jobs/{a_job}/{act}"))
    .chain([
        format!("/admin/users/{a_id}/disable"),
        format!("/admin/users/{d_id}/enable"),
    ])
    .collect();
    for path in &admin_actions {
        let wants = [Login, Forbidden, Forbidden, Login];
        for ((who, browser), want) in roles.iter().zip(wants) {
            let page = browser.post(path, job_fields).await;
            check(&page, want, who, &format!("POST {path}"));
        }
    }
    // The write API: no token, someone else's, a disabled user's.
    let patch = r#"{"title": "Taken Over"}"#;
    for (who, token, want) in [
        ("no token", None, 401),
        ("employer B", Some(b_token.as_str()), 404),
        ("disabled user", Some(d_token.as_str()), 401),
    ] {
        let job = format!("/api/v1/jobs/{a_job}");
        let draft = format!("/api/v1/jobs/{a_draft}");
        assert_eq!(
            api(&app, Method::PATCH, &job, token, patch).await,
            want,
            "{who} PATCH"
        );
        assert_eq!(
            api(&app, Method::DELETE, &job, token, "").await,
            want,
            "{who} DELETE"
        );
        let read = api(&app, Method::GET, &draft, token, "").await;
        assert_eq!(
            read,
            if want == 401 && token.is_none() {
                404
            } else {
                want
            },
            "{who} GET draft"
        );
    }
    assert_eq!(
        api(
            &app,
            Method::POST,
            "/api/v1/jobs",
            Some(&d_token),
            r#"{"title": "x"}"#
        )
        .await,
        401,
        "a disabled user cannot post"
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused request changed something"
    );

    // The owner and the admin can.
    assert_eq!(
        api(
            &app,
            Method::GET,
            &format!("/api/v1/jobs/{a_draft}"),
            Some(&a_token),
            ""
        )
        .await,
        200
    );
    assert_eq!(
        a.post(&format!("/dashboard/jobs/{a_job}/fill"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        app.scalar("SELECT status = 'filled' FROM jobs WHERE id = ?1", a_job)
            .await,
        1
    );
    assert_eq!(
        admin
            .post(&format!("/admin/jobs/{a_job}/feature"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        app.scalar("SELECT featured FROM jobs WHERE id = ?1", a_job)
            .await,
        1
    );
}
