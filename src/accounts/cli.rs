//! Account commands: `jobboard token create`.

use super::store;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

/// Creates an API token named `name` for the account with this email and
/// returns it (it is stored only as a hash). The operator vouches for the
/// account, so its email counts as verified from now on. Writes only to the
/// database (search changes go through the queue), so it is safe while
/// `serve` runs.
pub fn create_token(
    db: &Db,
    config: &Config,
    email: &str,
    name: &str,
    now: i64,
) -> Result<String, AppError> {
    let email = email.trim().to_string();
    let name = match name.trim() {
        "" => "cli".to_string(),
        n => n.to_string(),
    };
    let require_verified = config.posting.require_verified_email;
    db.write_blocking(move |tx| {
        let Some((user, _)) = store::by_email(tx, &email)? else {
            return Err(AppError::BadRequest(format!(
                "no account has the email {email}; register on the site first, \
                 or run `jobboard admin create --email {email}`"
            )));
        };
        if user.disabled {
            return Err(AppError::BadRequest(format!(
                "the account {email} is disabled; enable it in the admin first"
            )));
        }
        let (_, token) = store::create_api_token(tx, user.id, &name, now)?;
        store::mark_verified(tx, user.id, require_verified, now)?;
        Ok(token)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Role;

    #[test]
    fn makes_a_working_token_and_verifies_the_account() {
        let dir = tempfile::tempdir().expect("dir");
        let config = Config::for_data_dir(dir.path());
        let db = Db::open(&config.db_path()).expect("db");
        let id = db
            .write_blocking(|tx| {
                store::create_user(tx, "Ann@Example.com", "h", Role::Employer, false, 1)
            })
            .expect("user")
            .expect("new");
        let token = create_token(&db, &config, " ann@example.com ", "", 5).expect("token");
        let (user, _) = db
            .read_blocking(move |c| store::api_token_user(c, &token))
            .expect("lookup")
            .expect("the token works");
        assert_eq!(user.id, id);
        assert!(user.email_verified);
        let names = db
            .read_blocking(move |c| store::api_tokens(c, id))
            .expect("tokens");
        assert_eq!(names[0].name, "cli");

        let err = create_token(&db, &config, "nobody@example.com", "ci", 5).expect_err("unknown");
        assert!(err.to_string().contains("admin create"), "{err}");
        db.close();
    }
}
