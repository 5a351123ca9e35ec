//! `jobboard admin create --email E`: makes an admin account, or promotes an
//! existing account to admin.
//!
//! The password comes from stdin when stdin is not a terminal (its first
//! line), else from a prompt with echo off (through `stty`, when there is
//! one). A new admin is created verified: the operator vouches for the
//! address. An existing account becomes an admin, gets the new password (its
//! sessions end), is marked verified and is enabled again.

use std::io::{BufRead, IsTerminal, Write};

use crate::accounts::{Role, password, store as accounts};
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

/// What `admin create` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new admin account with this id.
    Created(i64),
    /// An existing account (this id) is now an admin with the new password.
    Promoted(i64),
}

impl Outcome {
    /// One line for the operator.
    pub fn describe(&self, email: &str) -> String {
        match self {
            Outcome::Created(id) => format!("created admin {email} (user {id})"),
            Outcome::Promoted(id) => format!(
                "{email} (user {id}) is now an admin with the new password; their sessions ended"
            ),
        }
    }
}

/// Checks the email before anyone types a password for it.
pub fn check_email(email: &str) -> Result<String, AppError> {
    let email = accounts::normalise_email(email);
    if crate::jobs::input::valid_email(&email) {
        Ok(email)
    } else {
        Err(AppError::BadRequest(format!(
            "--email {email:?} is not an email address"
        )))
    }
}

/// Creates or promotes the admin `email` with `password` (refused when weak),
/// and writes it to the audit log.
pub fn create(
    db: &Db,
    config: &Config,
    email: &str,
    password_text: &str,
    now: i64,
) -> Result<Outcome, AppError> {
    let email = check_email(email)?;
    if let Some(why) = password::refuse(password_text, &email) {
        return Err(AppError::BadRequest(format!("password refused: {why}")));
    }
    let hash = password::hash_blocking(password_text)?;
    let require_verified = config.posting.require_verified_email;
    db.write_blocking(move |tx| {
        let outcome = match accounts::by_email(tx, &email)? {
            Some((user, _)) => {
                accounts::set_role(tx, user.id, Role::Admin, now)?;
                accounts::set_password(tx, user.id, &hash, now)?;
                accounts::mark_verified(tx, user.id, require_verified, now)?;
                if user.disabled {
                    accounts::set_disabled(tx, user.id, false, require_verified, now)?;
                }
                Outcome::Promoted(user.id)
            }
            None => {
                let id = accounts::create_user(tx, &email, &hash, Role::Admin, true, now)?
                    .ok_or_else(|| AppError::internal("the email was taken meanwhile"))?;
                Outcome::Created(id)
            }
        };
        let (action, id) = match outcome {
            Outcome::Created(id) => ("create_admin", id),
            Outcome::Promoted(id) => ("promote_admin", id),
        };
        accounts::audit(
            tx,
            None,
            action,
            "user",
            Some(id),
            Some(&format!("{email}, from the command line")),
            now,
        )?;
        Ok(outcome)
    })
}

/// The first line of `input`, without its line ending.
pub fn first_line(input: &mut impl BufRead) -> Result<String, AppError> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| AppError::BadRequest(format!("cannot read the password: {e}")))?;
    if line.is_empty() {
        return Err(AppError::BadRequest(
            "no password on stdin (give it as the first line)".into(),
        ));
    }
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string())
}

/// The password: stdin's first line when stdin is not a terminal, else typed
/// twice at a prompt on stderr.
pub fn read_password() -> Result<String, AppError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return first_line(&mut stdin.lock());
    }
    let first = prompt("Password for the admin: ")?;
    let again = prompt("The same password again: ")?;
    if first != again {
        return Err(AppError::BadRequest("the passwords differ".into()));
    }
    Ok(first)
}

/// Asks on stderr and reads one line from the terminal, with echo off while
/// typing when `stty` can turn it off.
fn prompt(question: &str) -> Result<String, AppError> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let quiet = stty("-echo");
    let line = first_line(&mut std::io::stdin().lock());
    if quiet {
        stty("echo");
        let _ = writeln!(err);
    }
    line
}

/// Runs `stty` on the terminal (stdin); whether it worked.
fn stty(arg: &str) -> bool {
    std::process::Command::new("stty")
        .arg(arg)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_loses_its_line_ending_only() {
        let read = |s: &str| first_line(&mut std::io::Cursor::new(s.as_bytes().to_vec()));
        assert_eq!(
            read("a long passphrase \n").expect("line"),
            "a long passphrase "
        );
        assert_eq!(read("crlf line\r\nsecond\n").expect("line"), "crlf line");
        assert_eq!(read("no newline").expect("line"), "no newline");
        assert!(read("").is_err());
    }

    #[test]
    fn create_then_promote() {
        let dir = tempfile::tempdir().expect("dir");
        let config = Config::for_data_dir(dir.path());
        let db = Db::open(&config.db_path()).expect("db");
        assert!(create(&db, &config, "not an email", "a long passphrase here", 1).is_err());
        let weak = create(&db, &config, "a@b.example", "password", 1).expect_err("weak");
        assert!(weak.to_string().starts_with("password refused"), "{weak}");
        let made = create(&db, &config, "A@B.example", "a long passphrase here", 1).expect("new");
        let Outcome::Created(id) = made else {
            panic!("created: {made:?}")
        };
        let again = create(&db, &config, "a@b.example", "another passphrase!", 2).expect("again");
        assert_eq!(again, Outcome::Promoted(id));
        let log = db
            .read_blocking(|c| accounts::audit_log(c, 10))
            .expect("log");
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["promote_admin", "create_admin"]
        );
        db.close();
    }
}
