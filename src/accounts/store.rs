//! SQL for accounts: users, sessions, emailed tokens, API tokens, the audit
//! log, and which published jobs their owners' state hides.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Role, User};
use crate::crypto;
use crate::error::AppError;

/// How long a session lasts from sign-in.
pub const SESSION_SECONDS: i64 = 30 * 86_400;
/// How long an emailed link to verify an address works.
pub const VERIFY_SECONDS: i64 = 48 * 3600;
/// How long an emailed password-reset link works.
pub const RESET_SECONDS: i64 = 3600;

const USER_COLUMNS: &str =
    "u.id, u.email, u.role, u.email_verified_at, u.disabled_at, u.company_id, u.created_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        role: if role == "admin" {
            Role::Admin
        } else {
            Role::Employer
        },
        email_verified: r.get::<_, Option<i64>>(3)?.is_some(),
        disabled: r.get::<_, Option<i64>>(4)?.is_some(),
        company_id: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// Emails are kept trimmed and compared without case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Creates a user; `None` when the email is taken.
pub fn create_user(
    conn: &Connection,
    email: &str,
    password_hash: &str,
    role: Role,
    verified: bool,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO users (email, password_hash, role, email_verified_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (email) DO NOTHING",
        )?
        .execute(params![
            normalise_email(email),
            password_hash,
            role.as_str(),
            verified.then_some(now),
            now
        ])?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// A user and their password hash, by email.
pub fn by_email(conn: &Connection, email: &str) -> Result<Option<(User, String)>, AppError> {
    let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([normalise_email(email)], |r| {
            Ok((user_from_row(r)?, r.get(7)?))
        })
        .optional()?)
}

/// A user by id.
pub fn by_id(conn: &Connection, id: i64) -> Result<User, AppError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id], user_from_row)?)
}

/// A page of users, newest first, with how many jobs each has (admin).
pub fn list(conn: &Connection, limit: i64, offset: i64) -> Result<Vec<(User, i64)>, AppError> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, \
         (SELECT count(*) FROM jobs j WHERE j.owner_id = u.id AND j.deleted_at IS NULL) \
         FROM users u ORDER BY u.id DESC LIMIT ?1 OFFSET ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([limit, offset], |r| Ok((user_from_row(r)?, r.get(7)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets a new password, ends every session of the user and revokes their
/// API tokens: whoever had the account before the reset (someone who
/// registered another's address, say) keeps no way in.
pub fn set_password(conn: &Connection, user_id: i64, hash: &str, now: i64) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached("UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![user_id, hash, now])?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    end_sessions(conn, user_id)?;
    conn.prepare_cached(
        "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![user_id, now])?;
    Ok(())
}

/// Makes a user an admin.
pub fn set_role(conn: &Connection, user_id: i64, role: Role, now: i64) -> Result<(), AppError> {
    conn.prepare_cached("UPDATE users SET role = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![user_id, role.as_str(), now])?;
    Ok(())
}

/// Marks the user's email verified (once) and updates what that shows of
/// their jobs.
pub fn mark_verified(
    conn: &Connection,
    user_id: i64,
    require_verified: bool,
    now: i64,
) -> Result<(), AppError> {
    conn.prepare_cached(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, ?2), updated_at = ?2 \
         WHERE id = ?1",
    )?
    .execute(params![user_id, now])?;
    refresh_hidden(conn, Some(user_id), require_verified, now)?;
    Ok(())
}

/// Disables or enables a user. Disabling ends their sessions and revokes
/// nothing else: their jobs and tokens come back when they are enabled.
pub fn set_disabled(
    conn: &Connection,
    user_id: i64,
    disabled: bool,
    require_verified: bool,
    now: i64,
) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE users SET disabled_at = CASE WHEN ?2 THEN coalesce(disabled_at, ?3) END, \
             updated_at = ?3 WHERE id = ?1",
        )?
        .execute(params![user_id, disabled, now])?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    if disabled {
        end_sessions(conn, user_id)?;
    }
    refresh_hidden(conn, Some(user_id), require_verified, now)?;
    Ok(())
}

/// Links a user to the company they post for.
pub fn set_company(
    conn: &Connection,
    user_id: i64,
    company_id: i64,
    now: i64,
) -> Result<(), AppError> {
    conn.prepare_cached("UPDATE users SET company_id = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![user_id, company_id, now])?;
    Ok(())
}

/// Brings jobs' `hidden` flag in line with their owners (one owner, or all
/// with `None`): hidden when the owner is disabled, or unverified while
/// verification is required. Changed jobs are queued for the search index.
pub fn refresh_hidden(
    conn: &Connection,
    owner: Option<i64>,
    require_verified: bool,
    now: i64,
) -> Result<usize, AppError> {
    // Users first (CROSS JOIN fixes the order), then each one's jobs through
    // their index: a board of imported jobs with few owners is not scanned.
    let mut stmt = conn.prepare_cached(
        "UPDATE jobs SET hidden = NOT hidden, updated_at = ?3 WHERE id IN ( \
           SELECT j.id FROM users u CROSS JOIN jobs j ON j.owner_id = u.id \
           WHERE (?1 IS NULL OR u.id = ?1) \
             AND j.hidden != (u.disabled_at IS NOT NULL OR (?2 AND u.email_verified_at IS NULL))) \
         RETURNING id",
    )?;
    let ids: Vec<i64> = stmt
        .query_map(params![owner, require_verified, now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        crate::search::queue::enqueue(conn, *id, now)?;
    }
    Ok(ids.len())
}

/// Whether a new job of this owner starts hidden.
pub fn hides_jobs(user: &User, require_verified: bool) -> bool {
    user.disabled || (require_verified && !user.email_verified)
}

// Sessions.

/// Starts a session; returns the token for the cookie.
pub fn create_session(conn: &Connection, user_id: i64, now: i64) -> Result<String, AppError> {
    let token = crypto::new_token()?;
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![crypto::token_hash(&token), user_id, now, now + SESSION_SECONDS])?;
    Ok(token)
}

/// The enabled user a session token belongs to, while it lasts.
pub fn session_user(conn: &Connection, token: &str, now: i64) -> Result<Option<User>, AppError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![crypto::token_hash(token), now], user_from_row)
        .optional()?)
}

/// Ends one session.
pub fn end_session(conn: &Connection, token: &str) -> Result<(), AppError> {
    conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
        .execute([crypto::token_hash(token)])?;
    Ok(())
}

/// Ends every session of a user.
pub fn end_sessions(conn: &Connection, user_id: i64) -> Result<(), AppError> {
    conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
        .execute([user_id])?;
    Ok(())
}

// Emailed tokens.

/// What an emailed token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    fn lifetime(self) -> i64 {
        match self {
            Purpose::VerifyEmail => VERIFY_SECONDS,
            Purpose::ResetPassword => RESET_SECONDS,
        }
    }
}

/// Issues a single-use token for a user; earlier unused ones of the same
/// purpose stop working.
pub fn issue_token(
    conn: &Connection,
    user_id: i64,
    purpose: Purpose,
    now: i64,
) -> Result<String, AppError> {
    conn.prepare_cached(
        "UPDATE user_tokens SET used_at = ?3 WHERE user_id = ?1 AND purpose = ?2 AND used_at IS NULL",
    )?
    .execute(params![user_id, purpose.as_str(), now])?;
    let token = crypto::new_token()?;
    conn.prepare_cached(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        crypto::token_hash(&token),
        user_id,
        purpose.as_str(),
        now,
        now + purpose.lifetime()
    ])?;
    Ok(token)
}

/// Whose a usable token is, without using it up (to show a form).
pub fn peek_token(
    conn: &Connection,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<i64>, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id FROM user_tokens WHERE token_hash = ?1 AND purpose = ?2 \
             AND used_at IS NULL AND expires_at > ?3",
        )?
        .query_row(
            params![crypto::token_hash(token), purpose.as_str(), now],
            |r| r.get(0),
        )
        .optional()?)
}

/// Uses a token up: its user when it was usable, else `None`. Run in the
/// writer's transaction, so two uses of one token cannot both succeed.
pub fn consume_token(
    conn: &Connection,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<i64>, AppError> {
    Ok(conn
        .prepare_cached(
            "UPDATE user_tokens SET used_at = ?3 WHERE token_hash = ?1 AND purpose = ?2 \
             AND used_at IS NULL AND expires_at > ?3 RETURNING user_id",
        )?
        .query_row(
            params![crypto::token_hash(token), purpose.as_str(), now],
            |r| r.get(0),
        )
        .optional()?)
}

// API tokens.

/// An API token as its owner sees it listed (never the token itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

/// What API tokens start with, so they are recognisable in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "jb_";

/// Creates an API token; returns its id and the token (shown once).
pub fn create_api_token(
    conn: &Connection,
    user_id: i64,
    name: &str,
    now: i64,
) -> Result<(i64, String), AppError> {
    let token = format!("{API_TOKEN_PREFIX}{}", crypto::new_token()?);
    let prefix: String = token.chars().take(API_TOKEN_PREFIX.len() + 6).collect();
    conn.prepare_cached(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![user_id, name, crypto::token_hash(&token), prefix, now])?;
    Ok((conn.last_insert_rowid(), token))
}

/// A user's API tokens, newest first.
pub fn api_tokens(conn: &Connection, user_id: i64) -> Result<Vec<ApiToken>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, prefix, created_at, last_used_at, revoked_at IS NOT NULL \
         FROM api_tokens WHERE user_id = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(ApiToken {
            id: r.get(0)?,
            name: r.get(1)?,
            prefix: r.get(2)?,
            created_at: r.get(3)?,
            last_used_at: r.get(4)?,
            revoked: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Revokes one of the user's tokens; someone else's is not found.
pub fn revoke_api_token(
    conn: &Connection,
    user_id: i64,
    token_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let changed = conn
        .prepare_cached(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?3) WHERE id = ?1 AND user_id = ?2",
        )?
        .execute(params![token_id, user_id, now])?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The enabled user of an unrevoked API token.
pub fn api_token_user(conn: &Connection, token: &str) -> Result<Option<(User, i64)>, AppError> {
    if !token.starts_with(API_TOKEN_PREFIX) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {USER_COLUMNS}, t.id FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([crypto::token_hash(token)], |r| {
            Ok((user_from_row(r)?, r.get(7)?))
        })
        .optional()?)
}

/// Notes when a token was last used (at most once a minute per token).
pub fn touch_api_token(conn: &Connection, token_id: i64, now: i64) -> Result<(), AppError> {
    conn.prepare_cached(
        "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1 \
         AND (last_used_at IS NULL OR last_used_at < ?2 - 60)",
    )?
    .execute(params![token_id, now])?;
    Ok(())
}

/// Deletes expired sessions and emailed tokens that can no longer be used
/// (kept a day after, for support questions).
pub fn purge_expired(conn: &Connection, now: i64) -> Result<(), AppError> {
    conn.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
        .execute([now])?;
    conn.prepare_cached(
        "DELETE FROM user_tokens WHERE expires_at <= ?1 - 86400 OR used_at <= ?1 - 86400",
    )?
    .execute([now])?;
    Ok(())
}

// The audit log.

/// One admin action.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<i64>,
    pub detail: Option<String>,
}

/// Writes an admin action to the audit log (in the action's transaction).
pub fn audit(
    conn: &Connection,
    actor_id: Option<i64>,
    action: &str,
    target_kind: &str,
    target_id: Option<i64>,
    detail: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor_id, action, target_kind, target_id, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        now,
        actor_id,
        action,
        target_kind,
        target_id,
        detail
    ])?;
    Ok(())
}

/// The newest audit entries first.
pub fn audit_log(conn: &Connection, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.at, u.email, a.action, a.target_kind, a.target_id, a.detail \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id ORDER BY a.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(AuditEntry {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            target_kind: r.get(3)?,
            target_id: r.get(4)?,
            detail: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Emails of the enabled admins (for "a job waits for review").
pub fn admin_emails(conn: &Connection) -> Result<Vec<String>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT email FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        c
    }

    #[test]
    fn emails_are_unique_without_case() {
        let c = db();
        let id = create_user(&c, " Ana@Example.com ", "h", Role::Employer, false, 10)
            .expect("insert")
            .expect("new");
        assert!(
            create_user(&c, "ana@example.COM", "h", Role::Employer, false, 10)
                .expect("insert")
                .is_none()
        );
        let (user, hash) = by_email(&c, "ANA@example.com")
            .expect("query")
            .expect("found");
        assert_eq!(
            (user.id, user.email.as_str(), hash.as_str()),
            (id, "ana@example.com", "h")
        );
    }

    #[test]
    fn tokens_are_single_use_and_expire() {
        let c = db();
        let user = create_user(&c, "a@x.io", "h", Role::Employer, false, 0)
            .expect("insert")
            .expect("new");
        let t = issue_token(&c, user, Purpose::ResetPassword, 100).expect("issue");
        assert_eq!(
            consume_token(&c, &t, Purpose::VerifyEmail, 101).expect("q"),
            None,
            "wrong purpose"
        );
        assert_eq!(
            consume_token(&c, &t, Purpose::ResetPassword, 101).expect("q"),
            Some(user)
        );
        assert_eq!(
            consume_token(&c, &t, Purpose::ResetPassword, 102).expect("q"),
            None,
            "used"
        );
        let late = issue_token(&c, user, Purpose::ResetPassword, 200).expect("issue");
        assert_eq!(
            consume_token(&c, &late, Purpose::ResetPassword, 200 + RESET_SECONDS).expect("q"),
            None,
            "expired"
        );
        let first = issue_token(&c, user, Purpose::VerifyEmail, 300).expect("issue");
        let second = issue_token(&c, user, Purpose::VerifyEmail, 301).expect("issue");
        assert_eq!(
            consume_token(&c, &first, Purpose::VerifyEmail, 302).expect("q"),
            None,
            "replaced"
        );
        assert_eq!(
            consume_token(&c, &second, Purpose::VerifyEmail, 302).expect("q"),
            Some(user)
        );
    }

    #[test]
    fn sessions_end_with_a_new_password_and_when_disabled() {
        let c = db();
        let user = create_user(&c, "a@x.io", "h", Role::Employer, true, 0)
            .expect("insert")
            .expect("new");
        let s1 = create_session(&c, user, 0).expect("session");
        let (_, token) = create_api_token(&c, user, "before the reset", 0).expect("token");
        assert!(session_user(&c, &s1, 1).expect("q").is_some());
        assert!(
            session_user(&c, &s1, SESSION_SECONDS).expect("q").is_none(),
            "expired"
        );
        set_password(&c, user, "h2", 2).expect("set");
        assert!(
            session_user(&c, &s1, 3).expect("q").is_none(),
            "ended by the reset"
        );
        assert!(
            api_token_user(&c, &token).expect("q").is_none(),
            "revoked by the reset"
        );
        let s2 = create_session(&c, user, 4).expect("session");
        set_disabled(&c, user, true, false, 5).expect("disable");
        assert!(
            session_user(&c, &s2, 6).expect("q").is_none(),
            "ended by disabling"
        );
    }

    #[test]
    fn api_tokens_revoke_and_belong_to_their_user() {
        let c = db();
        let a = create_user(&c, "a@x.io", "h", Role::Employer, true, 0)
            .expect("i")
            .expect("n");
        let b = create_user(&c, "b@x.io", "h", Role::Employer, true, 0)
            .expect("i")
            .expect("n");
        let (id, token) = create_api_token(&c, a, "ci", 1).expect("create");
        assert!(token.starts_with("jb_"));
        assert_eq!(
            api_token_user(&c, &token).expect("q").map(|(u, _)| u.id),
            Some(a)
        );
        assert!(matches!(
            revoke_api_token(&c, b, id, 2),
            Err(AppError::NotFound)
        ));
        revoke_api_token(&c, a, id, 2).expect("revoke");
        assert!(api_token_user(&c, &token).expect("q").is_none());
        assert!(api_tokens(&c, a).expect("list")[0].revoked);
    }
}
